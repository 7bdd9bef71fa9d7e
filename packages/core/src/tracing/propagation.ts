import {
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api'
import type { DefaultExchange, Exchange } from '../exchange/exchange.js'

/**
 * The W3C trace-context and baggage headers (lower-case). An outbound transport never copies them from the
 * exchange's headers: it injects the context of the span sending the message instead, so an incoming
 * `traceparent` does not skip the spans of this process.
 */
export const TRACE_HEADERS: ReadonlySet<string> = new Set(['traceparent', 'tracestate', 'baggage'])

function headerValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8')
  return undefined
}

const getter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const v = carrier[key]
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string')
    return headerValue(v)
  },
}

const recordSetter: TextMapSetter<Record<string, unknown>> = {
  set(carrier, key, value) {
    carrier[key] = value
  },
}

/**
 * The parent of a new exchange's span: the context carried by the exchange (seda, asyncTaskData), else the
 * one in its headers (AMQP, HTTP, NATS…, through the registered propagator), else the active one. An active
 * span of the same trace wins over the headers: an auto-instrumentation (amqplib, http, fastify) already made
 * a span for the delivery or request from those headers, and ours becomes its child instead of its sibling.
 * @internal
 */
export function parentContext(ex: DefaultExchange): Context {
  const carried = ex.traceContext
  if (carried !== undefined) return carried
  const active = context.active()
  const extracted = propagation.extract(active, ex.message.headers, getter)
  if (extracted === active) return active
  const remote = trace.getSpanContext(extracted)
  if (remote === undefined || !isSpanContextValid(remote)) return active
  const current = trace.getSpanContext(active)
  if (current !== undefined && current.traceId === remote.traceId) return active
  return extracted
}

/** The trace context an exchange carries while tracing is on (its current span), else `undefined`. */
export function traceContextOf(exchange: Exchange): Context | undefined {
  return (exchange as DefaultExchange).traceContext
}

/**
 * Writes the trace headers of the span sending `exchange` (or of the active context) into `carrier`, through
 * the registered propagator (W3C `traceparent`/`tracestate`/`baggage` by default). For transport authors: call
 * it after the header filter ran, which must drop the exchange's own `TRACE_HEADERS`. Does nothing without an
 * SDK. A plain record is written with `carrier[name] = value`; pass a `setter` for anything else.
 */
export function injectTraceHeaders<T = Record<string, unknown>>(
  exchange: Exchange,
  carrier: T,
  setter?: TextMapSetter<T>,
): void {
  const ctx = (exchange as DefaultExchange).traceContext ?? context.active()
  propagation.inject(ctx, carrier, setter ?? (recordSetter as unknown as TextMapSetter<T>))
}
