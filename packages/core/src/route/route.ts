import type { DelayScheduler } from '../async/delay-scheduler.js'
import type { PendingOwner } from '../async/worker-group.js'
import type { Pipeline, PipelineEnd } from '../engine/pipeline.js'
import { DefaultExchange, type Exchange } from '../exchange/exchange.js'
import type { DefaultInflightRepository, RouteInflight } from '../inflight/inflight-repository.js'
import type { RouteMetrics } from '../metrics/context-metrics.js'
import { messageOf } from '../errors.js'
import type {
  Consumer,
  ConsumerHost,
  Producer,
  ShutdownLevel,
  ShutdownRunningTask,
} from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import type { RouteDefinition } from './route-definition.js'

/** Status of one route. */
export type RouteStatus = 'started' | 'suspended' | 'stopped'

/** A route as `ctx.routes()` reports it. */
export interface RouteInfo {
  readonly id: string
  readonly from: string
  readonly startupOrder: number
  readonly status: RouteStatus
  readonly inflight: number
  readonly pending: number
}

/** What a route needs from its context. @internal */
export interface RouteContext {
  readonly logger: Logger
  readonly inflight: DefaultInflightRepository
  readonly scheduler: DelayScheduler
  readonly shutdownLevel: ShutdownLevel
}

/**
 * The runtime of one route: it feeds its consumer's exchanges through the compiled pipeline, tracks them in
 * flight, records their outcome, and is the `ConsumerHost` its consumer sees.
 * @internal
 */
export class Route implements ConsumerHost, PendingOwner, PipelineEnd {
  readonly id: string
  readonly from: string
  readonly startupOrder: number
  readonly definition: RouteDefinition
  status: RouteStatus = 'stopped'
  /** False while the consumer says it cannot take work (`ConsumerHost.setReady`). */
  ready = true
  /** Tasks queued on worker groups by this route (pending). */
  asyncPending = 0
  /** Of those, `asyncTask` exchanges (tracked in flight) waiting for a worker: counted pending, not in flight. */
  asyncQueuedInflight = 0
  /** Exchanges a forced stop aborted or dropped. */
  aborted = 0
  consumer!: Consumer
  pipeline!: Pipeline
  metrics!: RouteMetrics
  readonly #ctx: RouteContext
  readonly #counter: RouteInflight
  #drainWaiters: Array<() => void> = []

  constructor(definition: RouteDefinition, id: string, startupOrder: number, ctx: RouteContext) {
    this.definition = definition
    this.id = id
    this.from = definition.from
    this.startupOrder = startupOrder
    this.#ctx = ctx
    this.#counter = ctx.inflight.route(id)
  }

  // --- ConsumerHost ---------------------------------------------------------------------------

  get routeId(): string {
    return this.id
  }

  get endpointUri(): string {
    return this.from
  }

  get logger(): Logger {
    return this.#ctx.logger
  }

  get shutdownRunningTask(): ShutdownRunningTask {
    return this.definition.shutdownRunningTask
  }

  get shutdownLevel(): ShutdownLevel {
    return this.#ctx.shutdownLevel
  }

  createExchange<TBody>(body: TBody, headers: Record<string, unknown> = {}): Exchange<TBody> {
    return new DefaultExchange(this.id, this.from, body, headers)
  }

  /** The hot path: track, run, record. A synchronous run allocates no promise. */
  process(exchange: Exchange): void | Promise<void> {
    const ex = exchange as DefaultExchange
    const nested = ex.tracked
    const previousRoute = ex.atRouteId
    // Also when first tracked: an exchange from a ProducerTemplate (fromRouteId '') is in this route now.
    ex.atRouteId = this.id
    if (nested) this.#ctx.inflight.enterRoute(this.#counter)
    else {
      ex.tracked = true
      this.#ctx.inflight.add(ex, this.#counter)
    }
    if (!nested) {
      // Finished through `pipelineEnded` when it goes async: no continuation of our own per exchange.
      const r = this.pipeline.run(ex, this)
      if (r === undefined) return this.#done(ex, false, previousRoute)
      return r
    }
    const r = this.pipeline.run(ex)
    if (r === undefined) return this.#done(ex, true, previousRoute)
    return this.#finish(ex, previousRoute, r)
  }

  /** PipelineEnd: an exchange this route tracks (not a nested direct: call) finished asynchronously. */
  pipelineEnded(exchange: DefaultExchange): void {
    this.#done(exchange, false, this.id)
  }

  async #finish(ex: DefaultExchange, previousRoute: string, r: Promise<void>): Promise<void> {
    await r
    this.#done(ex, true, previousRoute)
  }

  #done(ex: DefaultExchange, nested: boolean, previousRoute: string): void {
    if (nested) {
      ex.atRouteId = previousRoute
      this.#ctx.inflight.leaveRoute(this.#counter)
    } else {
      ex.tracked = false
      this.#ctx.inflight.remove(ex, this.#counter)
    }
    const seconds = (Date.now() - ex.createdAt) / 1000
    if (ex.exception === undefined) this.metrics.completed(seconds)
    else if (ex.abortReason !== undefined) this.metrics.aborted(seconds)
    else this.metrics.failed(seconds)
    // A consumer slot (seda) is held until the exchange completes, unless a suspending step released it.
    if (!nested && ex.slot !== undefined) ex.slot.release(ex)
    if (this.#drainWaiters.length > 0) this.#checkDrained()
  }

  /**
   * Runs a new exchange of this route through `producer` outside any pipeline (`asyncTaskData`): in flight
   * here until the producer is done, its outcome recorded like any other exchange of the route. A failure
   * nobody handled is logged, as there is no caller to see it.
   */
  dispatch(exchange: Exchange, producer: Producer, what: string): void | Promise<void> {
    const ex = exchange as DefaultExchange
    ex.tracked = true
    this.#ctx.inflight.add(ex, this.#counter)
    let r: void | Promise<void> = undefined
    try {
      r = producer.process(ex)
    } catch (err) {
      ex.exception = err
    }
    if (r === undefined) return this.#dispatched(ex, what)
    return r.then(
      () => this.#dispatched(ex, what),
      (err: unknown) => {
        ex.exception = err
        this.#dispatched(ex, what)
      },
    )
  }

  #dispatched(ex: DefaultExchange, what: string): void {
    this.#done(ex, false, this.id)
    const err = ex.exception
    if (err !== undefined && ex.abortReason === undefined)
      this.#ctx.logger.warn({ route: this.id, exchangeId: ex.id, err }, `${what} failed: ${messageOf(err)}`)
  }

  wasAborted(exchange: Exchange): boolean {
    return (exchange as DefaultExchange).abortReason !== undefined
  }

  notifyPending(): void {
    if (this.#drainWaiters.length > 0) this.#checkDrained()
  }

  setReady(ready: boolean): void {
    this.ready = ready
    if (this.status === 'started') this.metrics.up(ready ? 1 : 0)
  }

  // --- shutdown support -----------------------------------------------------------------------

  inflightCount(): number {
    return this.#counter.count - this.asyncQueuedInflight
  }

  pendingCount(): number {
    return (this.consumer.pendingExchanges?.() ?? 0) + this.asyncPending
  }

  /** Resolves the moment in-flight + pending reaches zero (event-driven, no polling). */
  whenDrained(): Promise<void> {
    if (this.inflightCount() + this.pendingCount() === 0) return Promise.resolve()
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  #checkDrained(): void {
    if (this.inflightCount() + this.pendingCount() !== 0) return
    const w = this.#drainWaiters
    this.#drainWaiters = []
    for (const f of w) f()
  }

  /** Aborts the signal of every exchange in flight in this route; returns how many. */
  abortInflight(reason: string): number {
    let n = 0
    for (const ex of this.#ctx.inflight.exchanges()) {
      if ((ex.fromRouteId === this.id || ex.atRouteId === this.id) && ex.abort(reason)) n++
    }
    if (n > 0) this.#ctx.scheduler.cancel(false)
    return n
  }

  info(): RouteInfo {
    return {
      id: this.id,
      from: this.from,
      startupOrder: this.startupOrder,
      status: this.status,
      inflight: this.inflightCount(),
      pending: this.status === 'stopped' ? this.asyncPending : this.pendingCount(),
    }
  }
}
