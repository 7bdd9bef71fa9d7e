/**
 * The error registry of `@dromedary/amqp`: literal codes and small typed factories on top of core's
 * `DromedaryError`. Every code here is listed in `docs/amqp.md` (Errors).
 */
import { DromedaryError } from '@dromedary/core'

/** Every error code `@dromedary/amqp` can raise. */
export const AmqpErrorCodes = {
  // configuration
  INVALID_CONFIG: 'DROMEDARY_ERR_AMQP_INVALID_CONFIG',
  INVALID_ENDPOINT: 'DROMEDARY_ERR_AMQP_INVALID_ENDPOINT',
  NOT_STARTED: 'DROMEDARY_ERR_AMQP_NOT_STARTED',
  // connection and topology
  CONNECT: 'DROMEDARY_ERR_AMQP_CONNECT',
  CONNECTION_CLOSED: 'DROMEDARY_ERR_AMQP_CONNECTION_CLOSED',
  CHANNEL: 'DROMEDARY_ERR_AMQP_CHANNEL',
  TOPOLOGY: 'DROMEDARY_ERR_AMQP_TOPOLOGY',
  // messages
  DECODE: 'DROMEDARY_ERR_AMQP_DECODE',
  ENCODE: 'DROMEDARY_ERR_AMQP_ENCODE',
  REDELIVERY_LIMIT: 'DROMEDARY_ERR_AMQP_REDELIVERY_LIMIT',
  PUBLISH_NACKED: 'DROMEDARY_ERR_AMQP_PUBLISH_NACKED',
  PUBLISH_RETURNED: 'DROMEDARY_ERR_AMQP_PUBLISH_RETURNED',
  PUBLISH_UNCONFIRMED: 'DROMEDARY_ERR_AMQP_PUBLISH_UNCONFIRMED',
  PUBLISH_ABORTED: 'DROMEDARY_ERR_AMQP_PUBLISH_ABORTED',
} as const

/** A code of `@dromedary/amqp`. */
export type AmqpErrorCode = (typeof AmqpErrorCodes)[keyof typeof AmqpErrorCodes]

const E = AmqpErrorCodes
const mk = (code: AmqpErrorCode, msg: string, cause?: unknown) =>
  new DromedaryError(code, msg, cause === undefined ? undefined : { cause })

/** Typed factories for every AMQP error, so messages stay consistent. @internal */
export const errors = {
  invalidConfig: (what: string) => mk(E.INVALID_CONFIG, `Invalid amqpComponent options: ${what}`),
  invalidEndpoint: (routeId: string, uri: string, why: string) =>
    mk(E.INVALID_ENDPOINT, `Route "${routeId}": invalid AMQP endpoint "${uri}": ${why}`),
  notStarted: (what: string) => mk(E.NOT_STARTED, `Cannot ${what}: the AMQP component has not been started`),
  connect: (target: string, cause: unknown) =>
    mk(E.CONNECT, `Cannot connect to the AMQP broker at ${target}: ${messageOf(cause)}`, cause),
  connectionClosed: (target: string, cause?: unknown) =>
    mk(
      E.CONNECTION_CLOSED,
      `The AMQP connection to ${target} is closed${cause === undefined ? '' : `: ${messageOf(cause)}`}`,
      cause,
    ),
  channel: (what: string, cause: unknown) =>
    mk(E.CHANNEL, `AMQP channel failed to ${what}: ${messageOf(cause)}`, cause),
  topology: (what: string, cause: unknown) =>
    mk(E.TOPOLOGY, `Cannot ${what} on the AMQP broker: ${messageOf(cause)}`, cause),
  decode: (queue: string, messageId: string, cause: unknown) =>
    mk(E.DECODE, `Cannot decode message ${messageId} from queue "${queue}": ${messageOf(cause)}`, cause),
  encode: (target: string, cause: unknown) =>
    mk(E.ENCODE, `Cannot encode the body for ${target}: ${messageOf(cause)}`, cause),
  redeliveryLimit: (queue: string, messageId: string, count: number, max: number) =>
    mk(
      E.REDELIVERY_LIMIT,
      `Message ${messageId} from queue "${queue}" was delivered ${count + 1} times (maxRedeliveries=${max}); not processing it again`,
    ),
  publishNacked: (target: string) =>
    mk(E.PUBLISH_NACKED, `The broker nacked a message published to ${target}`),
  publishReturned: (target: string, replyText: string) =>
    mk(
      E.PUBLISH_RETURNED,
      `The broker returned an unroutable mandatory message published to ${target}: ${replyText}`,
    ),
  publishUnconfirmed: (target: string, cause: unknown) =>
    mk(
      E.PUBLISH_UNCONFIRMED,
      `A message published to ${target} was not confirmed (it may or may not have reached the broker): ${messageOf(cause)}`,
      cause,
    ),
  publishAborted: (target: string, reason: unknown) =>
    mk(
      E.PUBLISH_ABORTED,
      `Publishing to ${target} was aborted before the broker confirmed it (it may have reached the broker): ${messageOf(reason)}`,
    ),
} satisfies Record<string, (...args: never[]) => DromedaryError>

/** The message of anything thrown. @internal */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
