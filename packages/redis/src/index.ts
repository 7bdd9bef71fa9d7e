/** The `redis:` component factory: consume streams through consumer groups, publish with `XADD`. */
export { redisComponent } from './redis-component.js'
/** Options of `redisComponent`: URL, reconnect backoff, header filter. */
export type { RedisComponentOptions } from './redis-component.js'
/** A Redis `IdempotentRepository` for `.idempotentConsumer()` (`SET NX EX` / `DEL`). */
export { redisIdempotentRepository } from './redis-idempotent-repository.js'
/** Options and type of `redisIdempotentRepository`. */
export type {
  RedisIdempotentRepository,
  RedisIdempotentRepositoryOptions,
} from './redis-idempotent-repository.js'
/** Anything that runs a raw Redis command: a node-redis client. */
export type { RedisCommandRunner, RedisArg } from './redis-connection.js'
/** How a consumer turns an entry's `body` field into the body (`contentType=` option). */
export type { RedisContentType } from './redis-fields.js'
/** Label values of `redis_messages_total` and `redis_published_total`. */
export type { RedisMessageOutcome, RedisPublishOutcome } from './redis-metrics.js'
/** Every error code `@dromedary/redis` can raise, for matching with `isDromedaryError(err, code)`. */
export { RedisErrorCodes } from './errors.js'
/** A code of `@dromedary/redis`. */
export type { RedisErrorCode } from './errors.js'
