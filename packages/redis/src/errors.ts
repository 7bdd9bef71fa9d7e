/**
 * The error registry of `@dromedary/redis`: literal codes and small typed factories on top of core's
 * `DromedaryError`. Every code here is listed in `docs/redis.md` (Errors) and `docs/errors.md`.
 */
import { DromedaryError } from '@dromedary/core'

/** Every error code `@dromedary/redis` can raise. */
export const RedisErrorCodes = {
  // configuration
  INVALID_CONFIG: 'DROMEDARY_ERR_REDIS_INVALID_CONFIG',
  INVALID_ENDPOINT: 'DROMEDARY_ERR_REDIS_INVALID_ENDPOINT',
  NOT_STARTED: 'DROMEDARY_ERR_REDIS_NOT_STARTED',
  // connection and stream topology
  CONNECT: 'DROMEDARY_ERR_REDIS_CONNECT',
  GROUP: 'DROMEDARY_ERR_REDIS_GROUP',
  COMMAND_FAILED: 'DROMEDARY_ERR_REDIS_COMMAND_FAILED',
  // messages
  DECODE: 'DROMEDARY_ERR_REDIS_DECODE',
  ENCODE: 'DROMEDARY_ERR_REDIS_ENCODE',
  DELIVERY_LIMIT: 'DROMEDARY_ERR_REDIS_DELIVERY_LIMIT',
  DEAD_LETTER_FAILED: 'DROMEDARY_ERR_REDIS_DEAD_LETTER_FAILED',
  PUBLISH_FAILED: 'DROMEDARY_ERR_REDIS_PUBLISH_FAILED',
  ABORTED: 'DROMEDARY_ERR_REDIS_ABORTED',
} as const

/** A code of `@dromedary/redis`. */
export type RedisErrorCode = (typeof RedisErrorCodes)[keyof typeof RedisErrorCodes]

const E = RedisErrorCodes
const mk = (code: RedisErrorCode, msg: string, cause?: unknown) =>
  new DromedaryError(code, msg, cause === undefined ? undefined : { cause })

/** Typed factories for every Redis error, so messages stay consistent. @internal */
export const errors = {
  invalidConfig: (what: string) => mk(E.INVALID_CONFIG, `Invalid Redis options: ${what}`),
  invalidEndpoint: (routeId: string, uri: string, why: string) =>
    mk(E.INVALID_ENDPOINT, `Route "${routeId}": invalid Redis endpoint "${uri}": ${why}`),
  notStarted: (what: string) => mk(E.NOT_STARTED, `Cannot ${what}: the Redis component has not been started`),
  connect: (target: string, cause: unknown) =>
    mk(E.CONNECT, `Cannot connect to Redis at ${target}: ${messageOf(cause)}`, cause),
  group: (stream: string, group: string, cause: unknown) =>
    mk(
      E.GROUP,
      `Cannot create or use consumer group "${group}" of stream "${stream}": ${messageOf(cause)}`,
      cause,
    ),
  commandFailed: (what: string, cause: unknown) =>
    mk(E.COMMAND_FAILED, `Redis ${what} failed: ${messageOf(cause)}`, cause),
  decode: (stream: string, id: string, cause: unknown) =>
    mk(E.DECODE, `Cannot decode entry ${id} of stream "${stream}": ${messageOf(cause)}`, cause),
  encode: (target: string, cause: unknown) =>
    mk(E.ENCODE, `Cannot encode the body for ${target}: ${messageOf(cause)}`, cause),
  deliveryLimit: (stream: string, id: string, deliveries: number, max: number) =>
    mk(
      E.DELIVERY_LIMIT,
      `Entry ${id} of stream "${stream}" was delivered ${deliveries} times (maxDeliveries=${max}); not processing it again`,
    ),
  deadLetterFailed: (target: string, id: string, cause: unknown) =>
    mk(
      E.DEAD_LETTER_FAILED,
      `Cannot dead-letter entry ${id} to stream "${target}" (it stays pending and is claimed again): ${messageOf(cause)}`,
      cause,
    ),
  publishFailed: (stream: string, cause: unknown) =>
    mk(E.PUBLISH_FAILED, `XADD to stream "${stream}" failed: ${messageOf(cause)}`, cause),
  aborted: (what: string, reason: unknown) =>
    mk(E.ABORTED, `${what} was aborted: ${messageOf(reason)}`, reason),
} satisfies Record<string, (...args: never[]) => DromedaryError>

/** The message of anything thrown. @internal */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
