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
  readonly fromRouteId: string
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
   * Neighbours in the inflight repository's arrival-ordered list while tracked. An intrusive list instead of
   * a `Set`: a `Set.add`/`delete` pair hashes the exchange and, on a set that keeps emptying, shrinks its
   * table in a runtime call, ~60–160 ns per exchange, a fifth of a synchronous `direct:` route (issue 8).
   */
  inflightPrev: DefaultExchange | undefined = undefined
  inflightNext: DefaultExchange | undefined = undefined
  #properties: Map<string, unknown> | undefined = undefined
  #controller: AbortController | undefined = undefined
  readonly #seq: number
  #id: string | undefined = undefined

  constructor(fromRouteId: string, fromUri: string, body: TBody, headers: Record<string, unknown>) {
    this.#seq = nextExchangeSeq()
    this.fromRouteId = fromRouteId
    this.atRouteId = fromRouteId
    this.fromUri = fromUri
    this.createdAt = Date.now()
    this.message = { body, headers }
  }

  // Formatted on first read: most exchanges never show their id (a log line, browse, a mock), and the string
  // costs an allocation per exchange (issue 8).
  get id(): string {
    return (this.#id ??= exchangeId(this.#seq))
  }

  get properties(): Map<string, unknown> {
    return (this.#properties ??= new Map())
  }

  // Created lazily: most exchanges never look at their signal.
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.abortReason !== undefined) this.#controller.abort(this.abortReason)
    }
    return this.#controller.signal
  }

  /** Aborts the exchange's signal; returns false when it was already aborted. */
  abort(reason: string): boolean {
    if (this.abortReason !== undefined) return false
    this.abortReason = reason
    this.#controller?.abort(reason)
    return true
  }
}

/** Creates an exchange; used by consumers through their `ConsumerHost`. @internal */
export function createExchange<TBody>(
  fromRouteId: string,
  fromUri: string,
  body: TBody,
  headers: Record<string, unknown> = {},
): DefaultExchange<TBody> {
  return new DefaultExchange(fromRouteId, fromUri, body, headers)
}
