/** The `amqp:` component factory: consume RabbitMQ queues and publish with confirms. */
export { amqpComponent } from './amqp-component.js'
/** Options of `amqpComponent`: broker URL, heartbeat, reconnect backoff, close bounds, header filter, topology. */
export type { AmqpComponentOptions, AmqpReconnectOptions } from './amqp-component.js'
/** The default header rules of the `amqp:` component, to extend in a `headerFilter` of your own. */
export { defaultAmqpHeaderFilter } from './amqp-headers.js'
/** Topology as configuration: what `amqpComponent({ topology })` declares. */
export type {
  AmqpTopology,
  AmqpExchangeDeclaration,
  AmqpQueueDeclaration,
  AmqpBindingDeclaration,
} from './amqp-topology.js'
/** How a consumer turns message content into the exchange body (`contentType=` option). */
export type { AmqpContentType } from './amqp-consumer.js'
/** Exchange types a producer may declare (`exchangeType=` option). */
export type { AmqpExchangeType } from './amqp-producer.js'
/** Label values of `amqp_messages_total` and `amqp_published_total`. */
export type { AmqpMessageOutcome, AmqpPublishOutcome } from './amqp-metrics.js'
/** Every error code `@dromedary/amqp` can raise, for matching with `isDromedaryError(err, code)`. */
export { AmqpErrorCodes } from './errors.js'
/** A code of `@dromedary/amqp`. */
export type { AmqpErrorCode } from './errors.js'
