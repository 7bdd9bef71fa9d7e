/** The `nats:` component factory: consume JetStream pull consumers, publish with acks, request/reply. */
export { natsComponent } from './nats-component.js'
/** Options of `natsComponent`: servers, credentials, reconnect, header filter. */
export type { NatsComponentOptions } from './nats-component.js'
/** How a consumer or a request's reply turns message data into the body (`contentType=` option). */
export type { NatsContentType } from './nats-codec.js'
/** Label values of `nats_messages_total` and `nats_published_total`. */
export type { NatsMessageOutcome, NatsPublishOutcome } from './nats-metrics.js'
/** Every error code `@dromedary/nats` can raise, for matching with `isDromedaryError(err, code)`. */
export { NatsErrorCodes } from './errors.js'
/** A code of `@dromedary/nats`. */
export type { NatsErrorCode } from './errors.js'
