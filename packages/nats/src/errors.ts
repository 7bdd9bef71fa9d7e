/**
 * The error registry of `@dromedary/nats`: literal codes and small typed factories on top of core's
 * `DromedaryError`. Every code here is listed in `docs/nats.md` (Errors) and `docs/errors.md`.
 */
import { DromedaryError } from '@dromedary/core'

/** Every error code `@dromedary/nats` can raise. */
export const NatsErrorCodes = {
  // configuration
  INVALID_CONFIG: 'DROMEDARY_ERR_NATS_INVALID_CONFIG',
  INVALID_ENDPOINT: 'DROMEDARY_ERR_NATS_INVALID_ENDPOINT',
  NOT_STARTED: 'DROMEDARY_ERR_NATS_NOT_STARTED',
  // connection and JetStream topology
  CONNECT: 'DROMEDARY_ERR_NATS_CONNECT',
  CONNECTION_CLOSED: 'DROMEDARY_ERR_NATS_CONNECTION_CLOSED',
  CONSUMER: 'DROMEDARY_ERR_NATS_CONSUMER',
  NO_STREAM: 'DROMEDARY_ERR_NATS_NO_STREAM',
  // messages
  DECODE: 'DROMEDARY_ERR_NATS_DECODE',
  ENCODE: 'DROMEDARY_ERR_NATS_ENCODE',
  DELIVERY_LIMIT: 'DROMEDARY_ERR_NATS_DELIVERY_LIMIT',
  DEAD_LETTER_FAILED: 'DROMEDARY_ERR_NATS_DEAD_LETTER_FAILED',
  PUBLISH_FAILED: 'DROMEDARY_ERR_NATS_PUBLISH_FAILED',
  REQUEST_FAILED: 'DROMEDARY_ERR_NATS_REQUEST_FAILED',
  ABORTED: 'DROMEDARY_ERR_NATS_ABORTED',
} as const

/** A code of `@dromedary/nats`. */
export type NatsErrorCode = (typeof NatsErrorCodes)[keyof typeof NatsErrorCodes]

const E = NatsErrorCodes
const mk = (code: NatsErrorCode, msg: string, cause?: unknown) =>
  new DromedaryError(code, msg, cause === undefined ? undefined : { cause })

/** Typed factories for every NATS error, so messages stay consistent. @internal */
export const errors = {
  invalidConfig: (what: string) => mk(E.INVALID_CONFIG, `Invalid natsComponent options: ${what}`),
  invalidEndpoint: (routeId: string, uri: string, why: string) =>
    mk(E.INVALID_ENDPOINT, `Route "${routeId}": invalid NATS endpoint "${uri}": ${why}`),
  notStarted: (what: string) => mk(E.NOT_STARTED, `Cannot ${what}: the NATS component has not been started`),
  connect: (target: string, cause: unknown) =>
    mk(E.CONNECT, `Cannot connect to NATS at ${target}: ${messageOf(cause)}`, cause),
  connectionClosed: (target: string) => mk(E.CONNECTION_CLOSED, `The NATS connection to ${target} is closed`),
  consumer: (stream: string, consumer: string, why: string, cause?: unknown) =>
    mk(E.CONSUMER, `JetStream consumer "${consumer}" of stream "${stream}": ${why}`, cause),
  noStream: (subject: string, cause: unknown) =>
    mk(E.NO_STREAM, `No JetStream stream captures subject "${subject}": ${messageOf(cause)}`, cause),
  decode: (stream: string, seq: number, cause: unknown) =>
    mk(E.DECODE, `Cannot decode message ${seq} of stream "${stream}": ${messageOf(cause)}`, cause),
  encode: (target: string, cause: unknown) =>
    mk(E.ENCODE, `Cannot encode the body for ${target}: ${messageOf(cause)}`, cause),
  deliveryLimit: (stream: string, seq: number, deliveries: number, max: number) =>
    mk(
      E.DELIVERY_LIMIT,
      `Message ${seq} of stream "${stream}" was delivered ${deliveries} times (maxDeliveries=${max}); not processing it again`,
    ),
  deadLetterFailed: (subject: string, seq: number, cause: unknown) =>
    mk(
      E.DEAD_LETTER_FAILED,
      `Cannot dead-letter message ${seq} to "${subject}" (it stays in its stream and is redelivered): ${messageOf(cause)}`,
      cause,
    ),
  publishFailed: (subject: string, cause: unknown) =>
    mk(E.PUBLISH_FAILED, `JetStream publish to "${subject}" failed: ${messageOf(cause)}`, cause),
  requestFailed: (subject: string, cause: unknown) =>
    mk(E.REQUEST_FAILED, `NATS request to "${subject}" failed: ${messageOf(cause)}`, cause),
  aborted: (what: string, reason: unknown) =>
    mk(E.ABORTED, `${what} was aborted: ${messageOf(reason)}`, reason),
} satisfies Record<string, (...args: never[]) => DromedaryError>

/** The message of anything thrown. @internal */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
