import {
  context,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanKind,
  type Tracer,
} from '@opentelemetry/api'
import type { DefaultExchange } from '../exchange/exchange.js'
import { messageOf } from '../errors.js'
import { consumerKind, routeAttributes, schemeOf } from './attributes.js'
import { parentContext } from './propagation.js'

/** What a route's exchange span needs to know of the route, computed once. @internal */
export class ExchangeSpans {
  readonly name: string
  readonly kind: SpanKind
  readonly attributes: Attributes
  readonly #http: boolean

  constructor(routeId: string, from: string) {
    const scheme = schemeOf(from)
    this.name = `${routeId} process`
    this.kind = consumerKind(scheme)
    this.attributes = routeAttributes(routeId, from)
    this.#http = scheme === 'http' || scheme === 'https'
  }

  /**
   * Runs `run` inside a new span for the exchange: the span is the exchange's trace context (producers and
   * called routes parent on it) and the active one while the route's steps run (so user code and
   * auto-instrumented clients see it). The exchange's previous context comes back when the run ends.
   */
  run(
    tracer: Tracer,
    ex: DefaultExchange,
    run: (ex: DefaultExchange) => void | Promise<void>,
  ): void | Promise<void> {
    const parent = parentContext(ex)
    const span = tracer.startSpan(this.name, { kind: this.kind, attributes: this.attributes }, parent)
    span.setAttribute('dromedary.exchange.id', ex.id)
    if (this.#http) this.#requestAttributes(span, ex)
    const previous = ex.traceContext
    const ctx = trace.setSpan(parent, span)
    ex.traceContext = ctx
    let r: void | Promise<void>
    try {
      r = context.with(ctx, run, undefined, ex)
    } catch (err) {
      ex.traceContext = previous
      endSpan(span, err)
      throw err
    }
    if (r === undefined) {
      ex.traceContext = previous
      this.#end(span, ex)
      return
    }
    return r.then(
      () => {
        ex.traceContext = previous
        this.#end(span, ex)
      },
      (err: unknown) => {
        ex.traceContext = previous
        endSpan(span, err)
        throw err
      },
    )
  }

  #requestAttributes(span: Span, ex: DefaultExchange): void {
    const h = ex.message.headers
    const method = h['http.method']
    const path = h['http.path']
    if (typeof method === 'string') span.setAttribute('http.request.method', method)
    if (typeof path === 'string') span.setAttribute('url.path', path)
  }

  #end(span: Span, ex: DefaultExchange): void {
    if (this.#http) {
      const status = ex.message.headers['http.status']
      if (typeof status === 'number') span.setAttribute('http.response.status_code', status)
    }
    if (ex.abortReason !== undefined) span.setAttribute('dromedary.aborted', ex.abortReason)
    endSpan(span, ex.exception)
  }
}

/** Ends a span, with status ERROR and the exception recorded when `err` is set. @internal */
export function endSpan(span: Span, err: unknown): void {
  if (err !== undefined) {
    span.recordException(err instanceof Error ? err : messageOf(err))
    span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(err) })
  }
  span.end()
}
