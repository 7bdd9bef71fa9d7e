import type {
  Consumer,
  ConsumerHost,
  Endpoint,
  EndpointUri,
  HeaderFilter,
  OptionSchema,
  ParsedOptions,
  Producer,
} from '@dromedary/core'
import type { NatsContentType } from './nats-codec.js'
import type { NatsConnectionHandle } from './nats-connection.js'
import { NatsConsumer } from './nats-consumer.js'
import type { NatsMetrics } from './nats-metrics.js'
import { NatsPublishProducer, NatsRequestProducer } from './nats-producer.js'
import { errors } from './errors.js'

/** Options of `from('nats:stream:NAME?…')`. */
const CONSUMER_OPTIONS = {
  consumer: { type: 'string' },
  batch: { type: 'number', default: 10, min: 1, integer: true },
  ackWaitMs: { type: 'duration', default: 30_000, min: 1000 },
  maxDeliveries: { type: 'number', default: 5, min: 1, integer: true },
  deadLetterSubject: { type: 'string', default: '' },
  nakDelayMs: { type: 'duration', default: 0 },
  expiresMs: { type: 'duration', default: 1000, min: 1000 },
  filterSubject: { type: 'string', default: '' },
  deliverPolicy: { type: 'enum', values: ['all', 'new'], default: 'all' },
  create: { type: 'boolean', default: true },
  contentType: { type: 'enum', values: ['auto', 'json', 'text', 'binary'], default: 'auto' },
} as const satisfies OptionSchema

/** Options of `to('nats:subject:SUBJECT?…')`. */
const PUBLISH_OPTIONS = {
  timeoutMs: { type: 'duration', default: 5000, min: 1 },
} as const satisfies OptionSchema

/** Options of `to('nats:request:SUBJECT?…')`. */
const REQUEST_OPTIONS = {
  timeoutMs: { type: 'duration', default: 5000, min: 1 },
  contentType: { type: 'enum', values: ['auto', 'json', 'text', 'binary'], default: 'auto' },
} as const satisfies OptionSchema

const MAX_BATCH = 10_000
// Stream and consumer names: no whitespace, no subject wildcards or separators, no path characters.
const NAME = /^[^\s.*>/\\]+$/
// A subject: dot-separated non-empty tokens without whitespace; wildcards only where a filter allows them.
const SUBJECT = /^[^\s.*>]+(?:\.[^\s.*>]+)*$/
const FILTER = /^(?:[^\s.*>]+|\*)(?:\.(?:[^\s.*>]+|\*))*(?:\.>)?$|^>$/

/** What endpoints need from their component. @internal */
export interface NatsEndpointRuntime {
  connection(): NatsConnectionHandle
  metrics(): NatsMetrics
  readonly headerFilter: HeaderFilter | undefined
}

/**
 * Parses `nats:stream:NAME`, `nats:subject:SUBJECT` and `nats:request:SUBJECT` and validates the options;
 * throws a DromedaryError naming the route, the URI and the bad part.
 * @internal
 */
export function createNatsEndpoint(uri: EndpointUri, runtime: NatsEndpointRuntime): Endpoint {
  const colon = uri.path.indexOf(':')
  const kind = colon === -1 ? uri.path : uri.path.slice(0, colon)
  const bad = (why: string) => errors.invalidEndpoint(uri.routeId, uri.uri, why)
  if (colon === -1 || (kind !== 'stream' && kind !== 'subject' && kind !== 'request'))
    throw bad('expected "nats:stream:NAME", "nats:subject:SUBJECT" or "nats:request:SUBJECT"')
  let name: string
  try {
    name = decodeURIComponent(uri.path.slice(colon + 1))
  } catch {
    throw bad('bad percent-encoding in the name')
  }
  if (kind === 'stream') {
    if (!NAME.test(name))
      throw bad('a stream name must be non-empty, without whitespace, ".", "*", ">", "/" or "\\"')
    const o = uri.parseOptions(CONSUMER_OPTIONS)
    if (o.consumer === undefined || !NAME.test(o.consumer))
      throw bad(
        '"consumer" (the durable consumer name) is required, without whitespace, ".", "*", ">", "/" or "\\"',
      )
    if (o.batch > MAX_BATCH) throw bad(`batch must be at most ${MAX_BATCH}`)
    if (o.deadLetterSubject !== '' && !SUBJECT.test(o.deadLetterSubject))
      throw bad('deadLetterSubject must be a subject without wildcards')
    if (o.filterSubject !== '' && !FILTER.test(o.filterSubject))
      throw bad('filterSubject is not a valid subject filter')
    return new NatsStreamEndpoint(uri.uri, name, o, runtime)
  }
  if (!SUBJECT.test(name))
    throw bad('a subject must be dot-separated non-empty tokens without whitespace or wildcards')
  if (kind === 'subject') {
    const o = uri.parseOptions(PUBLISH_OPTIONS)
    return {
      uri: uri.uri,
      createProducer: (): Producer =>
        new NatsPublishProducer(runtime, {
          subject: name,
          timeoutMs: o.timeoutMs,
          headerFilter: runtime.headerFilter,
          counters: runtime.metrics().published(name),
        }),
    }
  }
  const o = uri.parseOptions(REQUEST_OPTIONS)
  return {
    uri: uri.uri,
    createProducer: (): Producer =>
      new NatsRequestProducer(runtime, {
        subject: name,
        timeoutMs: o.timeoutMs,
        contentType: o.contentType as NatsContentType,
        headerFilter: runtime.headerFilter,
      }),
  }
}

type ConsumerOptions = ParsedOptions<typeof CONSUMER_OPTIONS>

/** `nats:stream:NAME?consumer=…`: consumed with `from`. */
class NatsStreamEndpoint implements Endpoint {
  readonly uri: string
  readonly #stream: string
  readonly #o: ConsumerOptions
  readonly #runtime: NatsEndpointRuntime

  constructor(uri: string, stream: string, options: ConsumerOptions, runtime: NatsEndpointRuntime) {
    this.uri = uri
    this.#stream = stream
    this.#o = options
    this.#runtime = runtime
  }

  createConsumer(host: ConsumerHost): Consumer {
    const o = this.#o
    const rt = this.#runtime
    return new NatsConsumer(
      host,
      { connection: () => rt.connection(), counters: rt.metrics().stream(this.#stream) },
      {
        stream: this.#stream,
        name: o.consumer!,
        create: o.create,
        ackWaitMs: o.ackWaitMs,
        filterSubject: o.filterSubject === '' ? undefined : o.filterSubject,
        deliverPolicy: o.deliverPolicy as 'all' | 'new',
        batch: o.batch,
        maxDeliveries: o.maxDeliveries,
        deadLetterSubject: o.deadLetterSubject === '' ? undefined : o.deadLetterSubject,
        nakDelayMs: o.nakDelayMs,
        expiresMs: o.expiresMs,
        contentType: o.contentType as NatsContentType,
        headerFilter: rt.headerFilter,
      },
    )
  }
}
