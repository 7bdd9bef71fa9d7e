import type { Consumer, ConsumerHost, Endpoint, EndpointUri, OptionSchema, Producer } from '@dromedary/core'
import type { AmqpConnection } from './amqp-connection.js'
import { AmqpConsumer } from './amqp-consumer.js'
import type { AmqpHeaderRules } from './amqp-headers.js'
import type { AmqpMetrics } from './amqp-metrics.js'
import { AmqpProducer } from './amqp-producer.js'
import { errors } from './errors.js'
import type { IdleLatch } from './idle-latch.js'

/** Options of a consumer, `from('amqp:queue:NAME?…')` (SPEC §5). */
const CONSUMER_OPTIONS = {
  prefetch: { type: 'number', default: 10, min: 1, integer: true },
  concurrency: { type: 'number', min: 1, integer: true },
  durable: { type: 'boolean', default: true },
  exclusive: { type: 'boolean', default: false },
  autoDelete: { type: 'boolean', default: false },
  passive: { type: 'boolean', default: false },
  deadLetterExchange: { type: 'string', default: '' },
  deadLetterRoutingKey: { type: 'string', default: '' },
  maxRedeliveries: { type: 'number', min: 0, integer: true },
  contentType: { type: 'enum', values: ['auto', 'json', 'text', 'binary'], default: 'auto' },
} as const satisfies OptionSchema

/** Options of `to('amqp:queue:NAME?…')`: publishes through the default exchange. */
const QUEUE_PRODUCER_OPTIONS = {
  persistent: { type: 'boolean', default: true },
  // A typo in a queue name would otherwise be confirmed by the broker and the message silently dropped.
  mandatory: { type: 'boolean', default: true },
} as const satisfies OptionSchema

/** Options of `to('amqp:exchange:NAME?…')`. */
const EXCHANGE_PRODUCER_OPTIONS = {
  routingKey: { type: 'string', default: '' },
  persistent: { type: 'boolean', default: true },
  mandatory: { type: 'boolean', default: false },
  exchangeType: { type: 'enum', values: ['direct', 'fanout', 'topic', 'headers'] },
} as const satisfies OptionSchema

// A queue URI may be consumed or published to; both option sets are accepted until the role is known.
const QUEUE_OPTIONS = { ...CONSUMER_OPTIONS, ...QUEUE_PRODUCER_OPTIONS } as const satisfies OptionSchema

const MAX_PREFETCH = 65_535
const MAX_NAME_BYTES = 255

/** What endpoints need from their component. @internal */
export interface AmqpEndpointRuntime {
  connection(): AmqpConnection
  metrics(): AmqpMetrics
  readonly unconfirmed: IdleLatch
  readonly headers: AmqpHeaderRules
  readonly resubscribe: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  readonly closeTimeoutMs: number
}

/**
 * Parses `amqp:queue:NAME` / `amqp:exchange:NAME` and validates its options; throws a DromedaryError naming
 * the route, the URI and the bad part.
 * @internal
 */
export function createAmqpEndpoint(uri: EndpointUri, runtime: AmqpEndpointRuntime): Endpoint {
  const colon = uri.path.indexOf(':')
  const kind = colon === -1 ? uri.path : uri.path.slice(0, colon)
  if (colon === -1 || (kind !== 'queue' && kind !== 'exchange')) {
    throw errors.invalidEndpoint(uri.routeId, uri.uri, 'expected "amqp:queue:NAME" or "amqp:exchange:NAME"')
  }
  let name: string
  try {
    name = decodeURIComponent(uri.path.slice(colon + 1))
  } catch {
    throw errors.invalidEndpoint(uri.routeId, uri.uri, 'bad percent-encoding in the name')
  }
  if (name === '') throw errors.invalidEndpoint(uri.routeId, uri.uri, `the ${kind} name is empty`)
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw errors.invalidEndpoint(
      uri.routeId,
      uri.uri,
      `the ${kind} name is longer than ${MAX_NAME_BYTES} bytes`,
    )
  }
  if (kind === 'exchange') {
    uri.parseOptions(EXCHANGE_PRODUCER_OPTIONS)
    return new AmqpExchangeEndpoint(uri, name, runtime)
  }
  const options = uri.parseOptions(QUEUE_OPTIONS)
  if (options.prefetch > MAX_PREFETCH) {
    throw errors.invalidEndpoint(uri.routeId, uri.uri, `prefetch must be at most ${MAX_PREFETCH}`)
  }
  if (options.concurrency !== undefined && options.concurrency > options.prefetch) {
    throw errors.invalidEndpoint(
      uri.routeId,
      uri.uri,
      `concurrency (${options.concurrency}) must be at most prefetch (${options.prefetch}): the broker never delivers more than prefetch at once`,
    )
  }
  return new AmqpQueueEndpoint(uri, name, runtime)
}

/** `amqp:queue:NAME`: consumed with `from`, published to (through the default exchange) with `to`. */
class AmqpQueueEndpoint implements Endpoint {
  readonly uri: string
  readonly #uri: EndpointUri
  readonly #queue: string
  readonly #runtime: AmqpEndpointRuntime

  constructor(uri: EndpointUri, queue: string, runtime: AmqpEndpointRuntime) {
    this.uri = uri.uri
    this.#uri = uri
    this.#queue = queue
    this.#runtime = runtime
  }

  createConsumer(host: ConsumerHost): Consumer {
    // Re-parsed with the consumer's schema only: producer options on a `from` URI are unknown options.
    const o = this.#uri.parseOptions(CONSUMER_OPTIONS)
    const rt = this.#runtime
    const deadLetterExchange = o.deadLetterExchange === '' ? undefined : o.deadLetterExchange
    const args: Record<string, string> = {}
    if (deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = deadLetterExchange
    if (o.deadLetterRoutingKey !== '') args['x-dead-letter-routing-key'] = o.deadLetterRoutingKey
    return new AmqpConsumer(
      host,
      {
        connection: () => rt.connection(),
        counters: rt.metrics().queue(this.#queue),
        headers: rt.headers,
        resubscribe: rt.resubscribe,
        closeTimeoutMs: rt.closeTimeoutMs,
      },
      {
        queue: this.#queue,
        prefetch: o.prefetch,
        concurrency: o.concurrency ?? o.prefetch,
        declare: o.passive
          ? undefined
          : { durable: o.durable, exclusive: o.exclusive, autoDelete: o.autoDelete, arguments: args },
        deadLetterExchange,
        maxRedeliveries: o.maxRedeliveries,
        contentType: o.contentType as 'auto' | 'json' | 'text' | 'binary',
      },
    )
  }

  createProducer(): Producer {
    const o = this.#uri.parseOptions(QUEUE_PRODUCER_OPTIONS)
    const rt = this.#runtime
    return new AmqpProducer(
      {
        connection: () => rt.connection(),
        counters: rt.metrics().published(''),
        headers: rt.headers,
        unconfirmed: rt.unconfirmed,
      },
      {
        exchange: '',
        routingKey: this.#queue,
        persistent: o.persistent,
        mandatory: o.mandatory,
        exchangeType: undefined,
      },
    )
  }
}

/** `amqp:exchange:NAME`: published to with `to`. */
class AmqpExchangeEndpoint implements Endpoint {
  readonly uri: string
  readonly #uri: EndpointUri
  readonly #exchange: string
  readonly #runtime: AmqpEndpointRuntime

  constructor(uri: EndpointUri, exchange: string, runtime: AmqpEndpointRuntime) {
    this.uri = uri.uri
    this.#uri = uri
    this.#exchange = exchange
    this.#runtime = runtime
  }

  createProducer(): Producer {
    const o = this.#uri.parseOptions(EXCHANGE_PRODUCER_OPTIONS)
    const rt = this.#runtime
    return new AmqpProducer(
      {
        connection: () => rt.connection(),
        counters: rt.metrics().published(this.#exchange),
        headers: rt.headers,
        unconfirmed: rt.unconfirmed,
      },
      {
        exchange: this.#exchange,
        routingKey: o.routingKey,
        persistent: o.persistent,
        mandatory: o.mandatory,
        exchangeType: o.exchangeType as 'direct' | 'fanout' | 'topic' | 'headers' | undefined,
      },
    )
  }
}
