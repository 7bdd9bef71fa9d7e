import type { Context } from '@opentelemetry/api'
import { exchangeId, nextExchangeSeq } from './ids.js'

/**
 * A consumer's concurrency slot held by an exchange. Its route releases it when the exchange completes; a
 * suspending step (`delay`, `asyncRoute`, `asyncTask`) releases it earlier, so the consumer can take the next
 * message while this one waits (Kamailio `t_suspend`). `release` is idempotent per exchange.
 * @internal
 */
export interface SuspendSlot {
  release(exchange: DefaultExchange): void
}

/**
 * A copy of a headers record with the semantics of `{ ...headers }`. Not a spread: adding a property to a
 * spread copy of a non-empty object costs V8 (11.x, Node 20) a new map each time, ~5 µs, and steps add headers
 * (issue 8). Not `Object.assign` alone either: it would set the copy's prototype from an own `__proto__` key
 * (e.g. from `JSON.parse`), which a spread copies as a plain property.
 * @internal
 */
export function copyHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.hasOwn(headers, '__proto__') ? { ...headers } : Object.assign({}, headers)
}

interface Rare {
  properties: Map<string, unknown> | undefined
  controller: AbortController | undefined
  /** Copies made by `split`/`multicast` while they run: aborted with this exchange. */
  copies: DefaultExchange[] | undefined
  /** The OpenTelemetry context of the span the exchange is in, while tracing is on. */
  trace: Context | undefined
  /** Called once on abort: producers' waits (`abortableExchange`), without making the signal. */
  listeners: Array<() => void> | undefined
}

/** Body and headers of an exchange. */
export interface Message<TBody = unknown> {
  body: TBody
  headers: Record<string, unknown>
}

/** One unit of work flowing through a route. */
export interface Exchange<TBody = unknown> {
  readonly id: string
  readonly fromRouteId: string
  readonly fromUri: string
  readonly createdAt: number
  message: Message<TBody>
  readonly properties: Map<string, unknown>
  exception?: unknown
  /** Aborted when the exchange is forcibly aborted (forced shutdown, `stopRoute` abort). */
  readonly signal: AbortSignal
}

/**
 * The runtime exchange. Fields after `exception` are engine bookkeeping read by the inflight repository;
 * they are written only when a step goes asynchronous, so a synchronous step costs nothing.
 * @internal
 */
export class DefaultExchange<TBody = unknown> implements Exchange<TBody> {
  /** Written once more when a ProducerTemplate's exchange enters its first route (Camel: that route's id). */
  fromRouteId: string
  readonly fromUri: string
  readonly createdAt: number
  message: Message<TBody>
  exception?: unknown
  /** Route the exchange is in now (changes inside `direct:` calls). */
  atRouteId: string
  /** Step the exchange waits in, set when a step goes async. */
  nodeId = ''
  /** When the exchange entered `nodeId`. */
  nodeSince = 0
  /** True while tracked by the inflight repository (a `direct:` call then counts it in a second route). */
  tracked = false
  /** Set once aborted; the reason string. */
  abortReason: string | undefined = undefined
  /** The consumer slot this exchange holds until it completes or suspends (seda). */
  slot: SuspendSlot | undefined = undefined
  /**
   * Cancels the built-in wait the exchange is in (a delay, a worker-group queue, a full seda queue), so an
   * abort ends it at once instead of when the wait would have ended (SPEC §4.1, "aborted means stopped").
   */
  waiting: (() => void) | undefined = undefined
  /**
   * Neighbours in the inflight repository's arrival-ordered list while tracked. An intrusive list instead of
   * a `Set`: a `Set.add`/`delete` pair hashes the exchange and, on a set that keeps emptying, shrinks its
   * table in a runtime call, ~60–160 ns per exchange, a fifth of a synchronous `direct:` route (issue 8).
   */
  inflightPrev: DefaultExchange | undefined = undefined
  inflightNext: DefaultExchange | undefined = undefined
  /** What most exchanges never use, in one object made on first use: fewer fields to allocate per exchange. */
  #rare: Rare | undefined = undefined
  /** The exchange's number until its id is first read, then the id (issue 8: most ids are never read). */
  #id: number | string

  constructor(fromRouteId: string, fromUri: string, body: TBody, headers: Record<string, unknown>) {
    this.#id = nextExchangeSeq()
    this.fromRouteId = fromRouteId
    this.atRouteId = fromRouteId
    this.fromUri = fromUri
    this.createdAt = Date.now()
    this.message = { body, headers }
  }

  // Formatted on first read: most exchanges never show their id (a log line, browse, a mock), and the string
  // costs an allocation per exchange (issue 8).
  get id(): string {
    const id = this.#id
    return typeof id === 'string' ? id : (this.#id = exchangeId(id))
  }

  get #extras(): Rare {
    return (this.#rare ??= {
      properties: undefined,
      controller: undefined,
      copies: undefined,
      trace: undefined,
      listeners: undefined,
    })
  }

  /**
   * The OpenTelemetry context of the span the exchange is in (its route's span, or a producer step's while it
   * sends), carried on the exchange across queues and workers; `undefined` while tracing is off.
   */
  get traceContext(): Context | undefined {
    return this.#rare?.trace
  }

  set traceContext(ctx: Context | undefined) {
    if (ctx === undefined && this.#rare === undefined) return
    this.#extras.trace = ctx
  }

  get properties(): Map<string, unknown> {
    return (this.#extras.properties ??= new Map())
  }

  // Created lazily: most exchanges never look at their signal.
  get signal(): AbortSignal {
    const rare = this.#extras
    if (rare.controller === undefined) {
      rare.controller = new AbortController()
      if (this.abortReason !== undefined) rare.controller.abort(this.abortReason)
    }
    return rare.controller.signal
  }

  /**
   * Calls `listener` once when the exchange is aborted (not when it is aborted already); returns what removes
   * it. Unlike the built-in wait slot (`waiting`), any number of listeners coexist, so a producer's wait and a
   * built-in wait on the same exchange never replace one another; unlike `signal`, no AbortController is made.
   */
  whenAborted(listener: () => void): () => void {
    const list = (this.#extras.listeners ??= [])
    list.push(listener)
    return () => {
      const i = list.indexOf(listener)
      if (i !== -1) list.splice(i, 1)
    }
  }

  /** Aborts the exchange's signal, its built-in wait and its running copies; false when already aborted. */
  abort(reason: string): boolean {
    if (this.abortReason !== undefined) return false
    this.abortReason = reason
    const waiting = this.waiting
    if (waiting !== undefined) {
      this.waiting = undefined
      waiting()
    }
    const rare = this.#rare
    if (rare !== undefined) {
      if (rare.listeners !== undefined) for (const listener of rare.listeners.splice(0)) listener()
      rare.controller?.abort(reason)
      if (rare.copies !== undefined) for (const c of rare.copies) c.abort(reason)
    }
    return true
  }

  /** A copy of this exchange for `split`/`multicast`, aborted with it while it runs (see `unlinkCopy`). */
  copy(body: unknown): DefaultExchange {
    const c = new DefaultExchange(this.fromRouteId, this.fromUri, body, copyHeaders(this.message.headers))
    c.atRouteId = this.atRouteId
    const trace = this.#rare?.trace
    if (trace !== undefined) c.traceContext = trace
    if (this.abortReason !== undefined) c.abort(this.abortReason)
    ;(this.#extras.copies ??= []).push(c)
    return c
  }

  unlinkCopy(c: DefaultExchange): void {
    const copies = this.#rare?.copies
    if (copies === undefined) return
    const i = copies.indexOf(c)
    if (i !== -1) copies.splice(i, 1)
  }
}
