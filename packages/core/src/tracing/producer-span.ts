import { context, trace, type Attributes, type SpanKind, type Tracer } from '@opentelemetry/api'
import type { DefaultExchange } from '../exchange/exchange.js'
import type { Producer } from '../spi/component.js'
import { producerAttributes, producerKind, redact, schemeOf } from './attributes.js'
import { endSpan } from './exchange-span.js'

const processWith = (producer: Producer, ex: DefaultExchange): void | Promise<void> => producer.process(ex)

/**
 * The span of one producer step (`to`, `toD`, `wireTap`, `multicast`): a child of the exchange's current
 * context, the exchange's context (and the active one) while the producer runs, so a called route, a seda
 * message or an injected `traceparent` parent on it. @internal
 */
export function sendTraced(
  tracer: Tracer,
  routeId: string,
  step: string,
  uri: string,
  ex: DefaultExchange,
  producer: Producer,
): void | Promise<void> {
  const scheme = schemeOf(uri)
  const kind: SpanKind = producerKind(scheme)
  const attributes: Attributes = producerAttributes(routeId, step, uri)
  const previous = ex.traceContext
  const parent = previous ?? context.active()
  const span = tracer.startSpan(`${step} ${redact(uri)}`, { kind, attributes }, parent)
  const ctx = trace.setSpan(parent, span)
  ex.traceContext = ctx
  let r: void | Promise<void>
  try {
    r = context.with(ctx, processWith, undefined, producer, ex)
  } catch (err) {
    ex.traceContext = previous
    endSpan(span, err)
    throw err
  }
  if (r === undefined) {
    ex.traceContext = previous
    endSpan(span, ex.exception)
    return
  }
  return r.then(
    () => {
      ex.traceContext = previous
      endSpan(span, ex.exception)
    },
    (err: unknown) => {
      ex.traceContext = previous
      endSpan(span, err)
      throw err
    },
  )
}
