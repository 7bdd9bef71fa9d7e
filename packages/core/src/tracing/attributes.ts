import { SpanKind, type Attributes } from '@opentelemetry/api'

/** The endpoint scheme of a URI (`amqp:orders?x=1` → `amqp`), lower-case. */
export function schemeOf(uri: string): string {
  const i = uri.indexOf(':')
  return i === -1 ? '' : uri.slice(0, i).toLowerCase()
}

/** The destination of a URI: its path without the scheme, the `//` and the query. */
export function destinationOf(uri: string): string {
  const i = uri.indexOf(':')
  let rest = i === -1 ? uri : uri.slice(i + 1)
  if (rest.startsWith('//')) rest = rest.slice(2)
  const q = rest.indexOf('?')
  return q === -1 ? rest : rest.slice(0, q)
}

/** `messaging.system` per scheme: the semantic-convention value where one exists. */
const MESSAGING_SYSTEM: Readonly<Record<string, string>> = {
  amqp: 'rabbitmq',
  nats: 'nats',
  redis: 'redis',
  seda: 'seda',
  event: 'dromedary_event',
}

/** Schemes whose consumers receive messages (CONSUMER spans) and whose producers send them (PRODUCER). */
const MESSAGING = new Set(['amqp', 'nats', 'redis', 'seda', 'event', 'timer'])

/** The kind of a route's exchange span: SERVER for http, CONSUMER for messaging and timers, else INTERNAL. */
export function consumerKind(scheme: string): SpanKind {
  if (scheme === 'http' || scheme === 'https') return SpanKind.SERVER
  return MESSAGING.has(scheme) ? SpanKind.CONSUMER : SpanKind.INTERNAL
}

/** The kind of a producer step's span: CLIENT for http, PRODUCER for messaging, else INTERNAL (direct, log, mock). */
export function producerKind(scheme: string): SpanKind {
  if (scheme === 'http' || scheme === 'https') return SpanKind.CLIENT
  return MESSAGING.has(scheme) && scheme !== 'timer' ? SpanKind.PRODUCER : SpanKind.INTERNAL
}

/** The attributes of a route's exchange span that do not depend on the exchange. */
export function routeAttributes(routeId: string, from: string): Attributes {
  const scheme = schemeOf(from)
  const attrs: Attributes = { 'dromedary.route.id': routeId, 'dromedary.endpoint.uri': redact(from) }
  const system = MESSAGING_SYSTEM[scheme]
  if (system !== undefined) {
    attrs['messaging.system'] = system
    attrs['messaging.destination.name'] = destinationOf(from)
    attrs['messaging.operation.type'] = 'process'
    attrs['messaging.operation.name'] = 'process'
  }
  return attrs
}

/** The attributes of a producer step's span. */
export function producerAttributes(routeId: string, step: string, uri: string): Attributes {
  const scheme = schemeOf(uri)
  const attrs: Attributes = {
    'dromedary.route.id': routeId,
    'dromedary.step': step,
    'dromedary.endpoint.uri': redact(uri),
  }
  const system = MESSAGING_SYSTEM[scheme]
  if (system !== undefined) {
    attrs['messaging.system'] = system
    attrs['messaging.destination.name'] = destinationOf(uri)
    attrs['messaging.operation.type'] = 'send'
    attrs['messaging.operation.name'] = 'send'
  }
  return attrs
}

/** A URI without its query and credentials: span attributes are exported, options may hold secrets. */
export function redact(uri: string): string {
  const q = uri.indexOf('?')
  const base = q === -1 ? uri : uri.slice(0, q)
  return base.replace(/\/\/[^/@]*@/, '//')
}
