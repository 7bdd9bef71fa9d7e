import { hostname } from 'node:os'
import type {
  Consumer,
  ConsumerHost,
  Endpoint,
  EndpointUri,
  HeaderFilter,
  OptionSchema,
  Producer,
} from '@dromedary/core'
import type { RedisConnection } from './redis-connection.js'
import { RedisConsumer } from './redis-consumer.js'
import type { RedisContentType } from './redis-fields.js'
import type { RedisMetrics } from './redis-metrics.js'
import { RedisProducer } from './redis-producer.js'
import { errors } from './errors.js'

/** Options of `from('redis:stream:KEY?…')`. */
const CONSUMER_OPTIONS = {
  group: { type: 'string' },
  consumer: { type: 'string' },
  batch: { type: 'number', default: 10, min: 1, integer: true },
  blockMs: { type: 'duration', default: 2000, min: 1 },
  minIdleMs: { type: 'duration', default: 60_000, min: 30 },
  claimIntervalMs: { type: 'duration', default: 5000, min: 10 },
  maxDeliveries: { type: 'number', default: 5, min: 1, integer: true },
  deadLetterStream: { type: 'string', default: '' },
  startId: { type: 'string', default: '0' },
  createGroup: { type: 'boolean', default: true },
  contentType: { type: 'enum', values: ['auto', 'json', 'text', 'binary'], default: 'auto' },
} as const satisfies OptionSchema

/** Options of `to('redis:stream:KEY?…')`. */
const PRODUCER_OPTIONS = {
  maxLen: { type: 'number', min: 1, integer: true },
} as const satisfies OptionSchema

// A stream may be consumed or published to; both option sets are accepted until the role is known.
const STREAM_OPTIONS = { ...CONSUMER_OPTIONS, ...PRODUCER_OPTIONS } as const satisfies OptionSchema

const MAX_BATCH = 10_000
const STREAM_ID = /^(?:\$|0|\d+(?:-\d+)?)$/
const NAME = /^[^\s]+$/

/** What endpoints need from their component. @internal */
export interface RedisEndpointRuntime {
  connection(): RedisConnection
  metrics(): RedisMetrics
  readonly headerFilter: HeaderFilter | undefined
}

/**
 * Parses `redis:stream:KEY` and validates its options; throws a DromedaryError naming the route, the URI and
 * the bad part.
 * @internal
 */
export function createRedisEndpoint(uri: EndpointUri, runtime: RedisEndpointRuntime): Endpoint {
  const bad = (why: string) => errors.invalidEndpoint(uri.routeId, uri.uri, why)
  const colon = uri.path.indexOf(':')
  if (colon === -1 || uri.path.slice(0, colon) !== 'stream') throw bad('expected "redis:stream:KEY"')
  let key: string
  try {
    key = decodeURIComponent(uri.path.slice(colon + 1))
  } catch {
    throw bad('bad percent-encoding in the stream key')
  }
  if (key === '') throw bad('the stream key is empty')
  const o = uri.parseOptions(STREAM_OPTIONS)
  if (o.batch > MAX_BATCH) throw bad(`batch must be at most ${MAX_BATCH}`)
  if (!STREAM_ID.test(o.startId)) throw bad('startId must be "0", "$" or a stream id')
  for (const name of ['group', 'consumer', 'deadLetterStream'] as const) {
    const v = o[name]
    if (v !== undefined && v !== '' && !NAME.test(v)) throw bad(`${name} must not contain whitespace`)
  }
  return new RedisStreamEndpoint(uri, key, runtime)
}

/** `redis:stream:KEY`: consumed with `from` (a consumer group), published to with `to` (`XADD`). */
class RedisStreamEndpoint implements Endpoint {
  readonly uri: string
  readonly #uri: EndpointUri
  readonly #key: string
  readonly #runtime: RedisEndpointRuntime

  constructor(uri: EndpointUri, key: string, runtime: RedisEndpointRuntime) {
    this.uri = uri.uri
    this.#uri = uri
    this.#key = key
    this.#runtime = runtime
  }

  createConsumer(host: ConsumerHost): Consumer {
    // Re-parsed with the consumer's schema only: producer options on a `from` URI are unknown options.
    const o = this.#uri.parseOptions(CONSUMER_OPTIONS)
    if (o.group === undefined || o.group === '')
      throw errors.invalidEndpoint(this.#uri.routeId, this.uri, '"group" (the consumer group) is required')
    const rt = this.#runtime
    return new RedisConsumer(
      host,
      { connection: () => rt.connection(), counters: rt.metrics().stream(this.#key) },
      {
        stream: this.#key,
        group: o.group,
        // Stable across restarts of one host (a pod keeps its name), unique across hosts.
        consumer: o.consumer === undefined || o.consumer === '' ? `${hostname()}-${process.pid}` : o.consumer,
        batch: o.batch,
        blockMs: o.blockMs,
        minIdleMs: o.minIdleMs,
        claimIntervalMs: o.claimIntervalMs,
        maxDeliveries: o.maxDeliveries,
        deadLetterStream: o.deadLetterStream === '' ? undefined : o.deadLetterStream,
        startId: o.startId,
        createGroup: o.createGroup,
        contentType: o.contentType as RedisContentType,
        headerFilter: rt.headerFilter,
      },
    )
  }

  createProducer(): Producer {
    const o = this.#uri.parseOptions(PRODUCER_OPTIONS)
    const rt = this.#runtime
    return new RedisProducer(() => rt.connection(), {
      stream: this.#key,
      maxLen: o.maxLen,
      headerFilter: rt.headerFilter,
      counters: rt.metrics().published(this.#key),
    })
  }
}
