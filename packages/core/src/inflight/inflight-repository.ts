import type { DefaultExchange } from '../exchange/exchange.js'

/** One in-flight exchange as `browse()` reports it (SPEC §2.1). */
export interface InflightExchange {
  readonly exchangeId: string
  readonly fromRouteId: string
  readonly atRouteId: string
  /** The step the exchange is in (`process3`, `delay2`), also while that step runs synchronously. */
  readonly nodeId: string
  /** Milliseconds since the exchange was created. */
  readonly durationMs: number
  /** Milliseconds in its current step (since the exchange's last asynchronous wait began, for a synchronous one). */
  readonly elapsedMs: number
}

/** Options of `InflightRepository.browse`. */
export interface BrowseOptions {
  routeId?: string
  /** @default unlimited */
  limit?: number
  /** @default false (oldest first anyway, as exchanges are kept in arrival order) */
  sortByLongestDuration?: boolean
}

/** Always-on, O(1) tracking of every exchange in flight (SPEC §2.1). */
export interface InflightRepository {
  size(routeId?: string): number
  browse(options?: BrowseOptions): InflightExchange[]
  oldest(routeId?: string): InflightExchange | undefined
  /** Resolves the moment the count for `routeIds` (all routes when omitted) reaches zero. No polling. */
  whenEmpty(routeIds?: readonly string[]): Promise<void>
}

interface Waiter {
  readonly routeIds: readonly string[] | undefined
  readonly resolve: () => void
}

/** A per-route counter; the route keeps a reference so the hot path does no map lookup. @internal */
export class RouteInflight {
  /** Exchanges tracked in the route, including those waiting in a worker-group queue. */
  count = 0
  /** Of those, `asyncTask` exchanges queued for a worker: pending, not in flight (SPEC §2.1). */
  queued = 0
  constructor(readonly routeId: string) {}

  /** What `size(routeId)` and `routes()[i].inflight` report. */
  get inflight(): number {
    return this.count - this.queued
  }
}

/** @internal */
export class DefaultInflightRepository implements InflightRepository {
  // A doubly linked list through the exchanges (`inflightPrev`/`inflightNext`) in arrival order, so the head
  // is the oldest; add and remove are O(1) and allocate nothing.
  #head: DefaultExchange | undefined = undefined
  #tail: DefaultExchange | undefined = undefined
  #size = 0
  readonly #routes = new Map<string, RouteInflight>()
  #waiters: Waiter[] = []

  /** The counter for a route, created on first use. */
  route(routeId: string): RouteInflight {
    let r = this.#routes.get(routeId)
    if (r === undefined) this.#routes.set(routeId, (r = new RouteInflight(routeId)))
    return r
  }

  /** Tracks an exchange entering its first route; the caller guarantees it is not tracked yet (`tracked`). */
  add(exchange: DefaultExchange, route: RouteInflight): void {
    const tail = this.#tail
    exchange.inflightPrev = tail
    exchange.inflightNext = undefined
    if (tail === undefined) this.#head = exchange
    else tail.inflightNext = exchange
    this.#tail = exchange
    this.#size++
    route.count++
  }

  /** Stops tracking an exchange `add` tracked; wakes waiters when a count reaches zero. */
  remove(exchange: DefaultExchange, route: RouteInflight): void {
    const prev = exchange.inflightPrev
    const next = exchange.inflightNext
    if (prev === undefined) this.#head = next
    else prev.inflightNext = next
    if (next === undefined) this.#tail = prev
    else next.inflightPrev = prev
    // Unlinked, so a finished exchange the caller keeps does not keep later ones alive.
    exchange.inflightPrev = exchange.inflightNext = undefined
    this.#size--
    if (--route.count === 0 && this.#waiters.length > 0) this.#wake()
  }

  /** An exchange entering another route (a `direct:` call): counted there too. */
  enterRoute(route: RouteInflight): void {
    route.count++
  }

  leaveRoute(route: RouteInflight): void {
    if (--route.count === 0 && this.#waiters.length > 0) this.#wake()
  }

  size(routeId?: string): number {
    if (routeId !== undefined) return this.#routes.get(routeId)?.inflight ?? 0
    let queued = 0
    for (const r of this.#routes.values()) queued += r.queued
    return this.#size - queued
  }

  browse(options: BrowseOptions = {}): InflightExchange[] {
    const { routeId, limit = Number.POSITIVE_INFINITY, sortByLongestDuration = false } = options
    const now = Date.now()
    const out: InflightExchange[] = []
    for (let ex = this.#head; ex !== undefined; ex = ex.inflightNext) {
      if (routeId !== undefined && ex.fromRouteId !== routeId && ex.atRouteId !== routeId) continue
      out.push(snapshot(ex, now))
      // Arrival order is already longest-first, so a limit can stop early either way.
      if (out.length >= limit) break
    }
    if (sortByLongestDuration) out.sort((a, b) => b.durationMs - a.durationMs)
    return out
  }

  oldest(routeId?: string): InflightExchange | undefined {
    return this.browse(routeId === undefined ? { limit: 1 } : { routeId, limit: 1 })[0]
  }

  whenEmpty(routeIds?: readonly string[]): Promise<void> {
    if (this.#count(routeIds) === 0) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push({ routeIds, resolve }))
  }

  /**
   * The tracked exchanges created by or now in one of `routeIds` (all when omitted), oldest first, in one pass
   * over what is in flight — forcing costs O(in-flight), not O(routes × in-flight). A copy: the caller may run
   * code (abort listeners) that finishes and so unlinks exchanges while it goes through them. @internal
   */
  exchanges(routeIds?: { has(routeId: string): boolean }): DefaultExchange[] {
    const out: DefaultExchange[] = []
    for (let ex = this.#head; ex !== undefined; ex = ex.inflightNext)
      if (routeIds === undefined || routeIds.has(ex.fromRouteId) || routeIds.has(ex.atRouteId)) out.push(ex)
    return out
  }

  #count(routeIds: readonly string[] | undefined): number {
    if (routeIds === undefined) {
      let n = 0
      for (const r of this.#routes.values()) n += r.count
      return n
    }
    let n = 0
    for (const id of routeIds) n += this.#routes.get(id)?.count ?? 0
    return n
  }

  #wake(): void {
    const still: Waiter[] = []
    for (const w of this.#waiters) {
      if (this.#count(w.routeIds) === 0) w.resolve()
      else still.push(w)
    }
    this.#waiters = still
  }
}

function snapshot(ex: DefaultExchange, now: number): InflightExchange {
  return {
    exchangeId: ex.id,
    fromRouteId: ex.fromRouteId,
    atRouteId: ex.atRouteId,
    nodeId: ex.nodeId,
    durationMs: now - ex.createdAt,
    elapsedMs: ex.nodeSince === 0 ? now - ex.createdAt : now - ex.nodeSince,
  }
}
