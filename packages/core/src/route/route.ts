import type { DelayScheduler } from '../async/delay-scheduler.js'
import type { PendingOwner } from '../async/worker-group.js'
import type { Pipeline, PipelineEnd } from '../engine/pipeline.js'
import { DefaultExchange, type Exchange } from '../exchange/exchange.js'
import type { DefaultInflightRepository, RouteInflight } from '../inflight/inflight-repository.js'
import type { RouteMetrics } from '../metrics/context-metrics.js'
import { errors, messageOf } from '../errors.js'
import type {
  Consumer,
  ConsumerHost,
  Producer,
  ShutdownLevel,
  ShutdownRunningTask,
} from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import { ExchangeSpans } from '../tracing/exchange-span.js'
import { RouteTracing } from '../tracing/tracer.js'
import type { RouteDefinition } from './route-definition.js'
import { RouteState, type RouteStatus } from './route-state.js'

export type { RouteStatus } from './route-state.js'

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
  /** The consumer's readiness changed (`ConsumerHost.setReady`): publish `route_up` again. */
  readinessChanged(route: Route): void
}

/**
 * The runtime of one route: it feeds its consumer's exchanges through the compiled pipeline, tracks them in
 * flight, records their outcome, and is the `ConsumerHost` its consumer sees. Its status lives in `state`,
 * which only `RouteLifecycle` changes.
 * @internal
 */
export class Route implements ConsumerHost, PendingOwner, PipelineEnd {
  readonly id: string
  readonly from: string
  readonly startupOrder: number
  readonly definition: RouteDefinition
  readonly state: RouteState
  /** Tasks queued on worker groups by this route (pending). */
  asyncPending = 0
  /** Exchanges a forced stop aborted or dropped. */
  aborted = 0
  consumer!: Consumer
  pipeline!: Pipeline
  metrics!: RouteMetrics
  /** Its tracer while an OpenTelemetry SDK is registered (refreshed when the route starts). */
  readonly tracing = new RouteTracing()
  readonly #spans: ExchangeSpans
  readonly #run = (ex: DefaultExchange): void | Promise<void> => this.#process(ex)
  readonly #ctx: RouteContext
  readonly #counter: RouteInflight
  #drainWaiters: Array<() => void> = []

  constructor(definition: RouteDefinition, id: string, startupOrder: number, ctx: RouteContext) {
    this.definition = definition
    this.id = id
    this.from = definition.from
    this.startupOrder = startupOrder
    this.state = new RouteState(id)
    this.#ctx = ctx
    this.#counter = ctx.inflight.route(id)
    this.#spans = new ExchangeSpans(id, definition.from)
  }

  get status(): RouteStatus {
    return this.state.status
  }

  /** Of the queued tasks, `asyncTask` exchanges (tracked in flight) waiting for a worker: pending, not in flight. */
  get asyncQueuedInflight(): number {
    return this.#counter.queued
  }

  set asyncQueuedInflight(n: number) {
    this.#counter.queued = n
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
    // One field read when tracing is off: no span, no context, no closure.
    const tracer = this.tracing.tracer
    if (tracer !== undefined) return this.#spans.run(tracer, exchange as DefaultExchange, this.#run)
    return this.#process(exchange as DefaultExchange)
  }

  #process(ex: DefaultExchange): void | Promise<void> {
    const nested = ex.tracked
    const previousRoute = ex.atRouteId
    ex.atRouteId = this.id
    if (nested) this.#ctx.inflight.enterRoute(this.#counter)
    else {
      ex.tracked = true
      // A ProducerTemplate's exchange belongs to the route consuming its endpoint (Camel).
      if (ex.fromRouteId === '') ex.fromRouteId = this.id
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
    // Aborted means stopped (SPEC §4.1): never `completed`, whatever the last step did — its caller and its
    // consumer see it failed as aborted, and hand it back.
    if (ex.abortReason !== undefined) {
      ex.exception ??= errors.aborted(ex.abortReason)
      this.metrics.aborted(seconds)
    } else if (ex.exception === undefined) this.metrics.completed(seconds)
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

  /** Tracks a copy made by a step of this route (`split`, `multicast`, `wireTap`) until `untrack`. */
  track(copy: DefaultExchange): void {
    copy.tracked = true
    this.#ctx.inflight.add(copy, this.#counter)
  }

  untrack(copy: DefaultExchange): void {
    if (!copy.tracked) return
    copy.tracked = false
    this.#ctx.inflight.remove(copy, this.#counter)
    if (this.#drainWaiters.length > 0) this.#checkDrained()
  }

  wasAborted(exchange: Exchange): boolean {
    return (exchange as DefaultExchange).abortReason !== undefined
  }

  notifyPending(): void {
    if (this.#drainWaiters.length > 0) this.#checkDrained()
  }

  setReady(ready: boolean): void {
    if (this.state.ready === ready) return
    this.state.ready = ready
    this.#ctx.readinessChanged(this)
  }

  // --- shutdown support -----------------------------------------------------------------------

  inflightCount(): number {
    return this.#counter.inflight
  }

  /** Work taken but not started: the consumer's and this route's worker-group tasks. */
  pendingCount(): number {
    return (this.consumer.pendingExchanges?.() ?? 0) + this.asyncPending
  }

  /**
   * What a drain waits for besides in-flight exchanges: the pending count, except the queued backlog of a
   * route that was suspended (SPEC §2: a shutdown does not resume it; the backlog is dropped or handed back).
   */
  drainablePending(): number {
    return this.state.holdsBacklog ? this.asyncPending : this.pendingCount()
  }

  /** Resolves the moment in-flight + drainable pending reaches zero (event-driven, no polling). */
  whenDrained(): Promise<void> {
    if (this.inflightCount() + this.drainablePending() === 0) return Promise.resolve()
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  #checkDrained(): void {
    if (this.inflightCount() + this.drainablePending() !== 0) return
    const w = this.#drainWaiters
    this.#drainWaiters = []
    for (const f of w) f()
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
