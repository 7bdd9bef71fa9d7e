import { pino } from 'pino'
import type { Observable } from 'rxjs'
import { Subject } from 'rxjs'
import { DelayScheduler } from '../async/delay-scheduler.js'
import { WorkerGroup } from '../async/worker-group.js'
import { EventBus } from '../components/event/event-component.js'
import { MockRegistry } from '../components/mock/mock-component.js'
import type { MockEndpoint } from '../components/mock/mock-endpoint.js'
import { errors, messageOf } from '../errors.js'
import { DefaultInflightRepository, type InflightRepository } from '../inflight/inflight-repository.js'
import { ContextMetrics, type MetricsRegistry } from '../metrics/context-metrics.js'
import type { RouteDsl } from '../route/route-builder.js'
import type { RouteDefinition } from '../route/route-definition.js'
import type { Route, RouteInfo } from '../route/route.js'
import { DefaultShutdownStrategy } from '../shutdown/default-shutdown-strategy.js'
import type { ShutdownReport } from '../shutdown/report.js'
import type { ShutdownStrategy } from '../shutdown/shutdown-strategy.js'
import type { Component, ComponentContext, ShutdownLevel } from '../spi/component.js'
import { silentLogger, type Logger } from '../spi/logger.js'
import { validateDuration } from '../uri/duration.js'
import type { ContextEvent } from './events.js'
import { Lifecycle, type ContextStatus } from './lifecycle.js'
import type { ContextOptions } from './options.js'
import { createProducerTemplate, type ProducerTemplate } from './producer-template.js'
import { RouteControl, type StopRouteOptions } from './route-control.js'
import { RouteLifecycle } from './route-lifecycle.js'
import { RouteRegistry } from './route-registry.js'
import { runContext, type RunOptions } from './runner.js'
import { traceLogFields } from '../tracing/log-fields.js'
import { ShutdownSpan } from '../tracing/shutdown-span.js'
import { ShutdownSequence, type Listener, type NoticePayload, type NowPayload } from './shutdown-sequence.js'
import { startContext } from './start.js'
import { lintRoutes } from './lint.js'
import { registerBuiltins } from './builtins.js'
import { dropQueuedTasks } from './drop-queued-tasks.js'

/** The runtime that holds components and routes, starts them in order and stops them gracefully (SPEC §2). */
export interface IntegrationContext extends AsyncDisposable {
  readonly name: string
  readonly status: ContextStatus
  readonly shutdownLevel: ShutdownLevel
  readonly inflight: InflightRepository
  readonly events$: Observable<ContextEvent>
  /** The prom-client Registry in use, or undefined when metrics are off. */
  readonly metrics: MetricsRegistry | undefined
  readonly logger: Logger
  shutdownStrategy: ShutdownStrategy
  addComponent(scheme: string, component: Component): this
  /**
   * Defines routes, all or nothing: a batch that fails validation throws and leaves no trace. After `start()`
   * the new routes start; the promise rejects if one fails to start (the others of the batch are stopped).
   */
  addRoutes(fn: (r: RouteDsl) => void): Promise<void>
  start(): Promise<void>
  stop(options?: { timeoutMs?: number }): Promise<ShutdownReport>
  forceStop(): Promise<ShutdownReport>
  whenStopped(): Promise<ShutdownReport>
  run(options?: RunOptions): Promise<ShutdownReport>
  routes(): RouteInfo[]
  startRoute(id: string): Promise<void>
  stopRoute(id: string, options?: StopRouteOptions): Promise<boolean>
  suspendRoute(id: string): Promise<void>
  resumeRoute(id: string): Promise<void>
  onShutdownNotice(fn: Listener<NoticePayload>): () => void
  onShutdownNow(fn: Listener<NowPayload>): () => void
  producer(): ProducerTemplate
  mock(name: string): MockEndpoint
  health(): { live: boolean; ready: boolean }
}

/**
 * Creates an integration context.
 * @example
 * const ctx = createContext({ name: 'orders', shutdown: { timeoutMs: 30_000 } })
 * await ctx.addRoutes((r) => r.from('timer:tick?period=1000').to('log:tick'))
 * await ctx.run()
 */
export function createContext(options: ContextOptions = {}): IntegrationContext {
  return new DefaultIntegrationContext(options)
}

class DefaultIntegrationContext implements IntegrationContext {
  readonly name: string
  readonly logger: Logger
  shutdownStrategy: ShutdownStrategy
  readonly #lifecycle = new Lifecycle()
  readonly #inflight = new DefaultInflightRepository()
  readonly #scheduler = new DelayScheduler()
  readonly #events = new Subject<ContextEvent>()
  readonly events$: Observable<ContextEvent> = this.#events.asObservable()
  readonly #workerGroups = new Map<string, WorkerGroup>()
  readonly #eventBus = new EventBus()
  readonly #mocks = new MockRegistry()
  readonly #metrics: ContextMetrics
  readonly #componentContext: ComponentContext
  readonly #registry: RouteRegistry
  readonly #routeLifecycle: RouteLifecycle
  readonly #sequence: ShutdownSequence
  readonly #control: RouteControl
  readonly #noticeListeners = new Set<Listener<NoticePayload>>()
  readonly #nowListeners = new Set<Listener<NowPayload>>()
  readonly #warned = new Set<string>()
  readonly #defaultTimeoutMs: number
  readonly #nowBudgetMs: number
  #stopping: Promise<ShutdownReport> | undefined
  #starting: Promise<void> | undefined
  #stopped: { promise: Promise<ShutdownReport>; resolve: (r: ShutdownReport) => void }

  constructor(options: ContextOptions) {
    this.name = options.name ?? 'dromedary'
    this.logger = options.logger === false ? silentLogger : (options.logger ?? defaultLogger(this.name))
    const { preStopDelayMs = 0, nowBudgetMs = 5000, ...strategyOptions } = options.shutdown ?? {}
    validateDuration('shutdown.preStopDelayMs', preStopDelayMs)
    this.#nowBudgetMs = validateDuration('shutdown.nowBudgetMs', nowBudgetMs)
    if (options.shutdownStrategy === undefined) {
      this.shutdownStrategy = new DefaultShutdownStrategy(strategyOptions)
    } else {
      this.shutdownStrategy = options.shutdownStrategy
      if (Object.keys(strategyOptions).length > 0)
        this.logger.warn(
          { ignored: Object.keys(strategyOptions) },
          `shutdown.${Object.keys(strategyOptions).join(', shutdown.')} ignored: a custom shutdownStrategy is set`,
        )
    }
    this.#defaultTimeoutMs =
      strategyOptions.timeoutMs === undefined
        ? 300_000
        : validateDuration('shutdown.timeoutMs', strategyOptions.timeoutMs)
    let resolveStopped!: (r: ShutdownReport) => void
    this.#stopped = { promise: new Promise((r) => (resolveStopped = r)), resolve: resolveStopped }
    const groups = options.workerGroups ?? { default: { workers: 1 } }
    for (const [name, g] of Object.entries(groups)) this.#workerGroups.set(name, new WorkerGroup(name, g))
    if (!this.#workerGroups.has('default'))
      this.#workerGroups.set('default', new WorkerGroup('default', { workers: 1 }))
    const level = () => this.shutdownLevel
    const status = () => this.status
    const stopping = () => this.#stopping !== undefined
    const routeLifecycle = () => this.#routeLifecycle
    const strategy = () => this.shutdownStrategy
    const timeoutOf = (st: ShutdownStrategy) => this.#timeoutOf(st)
    this.#metrics = new ContextMetrics(
      this.name,
      options.metrics ?? {},
      {
        routeIds: () => this.#registry.routes.map((r) => r.id),
        inflight: (id) => this.#registry.route(id)?.inflightCount() ?? 0,
        pending: (id) => this.#registry.route(id)?.info().pending ?? 0,
      },
      { groups: () => this.#workerGroups.values() },
    )
    this.#componentContext = {
      name: this.name,
      logger: this.logger,
      metrics: this.#metrics.factory,
      get shutdownLevel() {
        return level()
      },
    }
    this.#sequence = new ShutdownSequence({
      logger: this.logger,
      get lifecycle() {
        return routeLifecycle()
      },
      inflight: this.#inflight,
      metrics: this.#metrics,
      scheduler: this.#scheduler,
      workerGroups: this.#workerGroups,
      preStopDelayMs,
      nowBudgetMs,
      noticeListeners: this.#noticeListeners,
      nowListeners: this.#nowListeners,
      routes: () => this.#registry.routes,
      producers: () => this.#registry.producers(),
      components: () => this.#uniqueComponents(),
      emit: (e) => this.#events.next(e),
    })
    this.#routeLifecycle = new RouteLifecycle({
      logger: this.logger,
      get shutdownLevel() {
        return level()
      },
      get contextStopping() {
        return stopping()
      },
      emit: (e) => this.#events.next(e),
      dropQueuedTasks: (r) => dropQueuedTasks(r, this.#workerGroups.values(), this.logger),
    })
    this.#registry = new RouteRegistry({
      logger: this.logger,
      get shutdownLevel() {
        return level()
      },
      get started() {
        return status() === 'started'
      },
      componentContext: this.#componentContext,
      inflight: this.#inflight,
      scheduler: this.#scheduler,
      metrics: this.#metrics,
      workerGroups: this.#workerGroups,
      routeContext: {
        logger: this.logger,
        inflight: this.#inflight,
        scheduler: this.#scheduler,
        get shutdownLevel() {
          return level()
        },
        readinessChanged: (r) => this.#routeLifecycle.publish(r),
      },
      emitEvent: (type, key, value) => this.#eventBus.emit('tkv', type, key, value),
      warnOnce: (key, route, message) => this.#warnOnce(key, { route }, message),
    })
    this.#control = new RouteControl({
      get status() {
        return status()
      },
      get shutdownLevel() {
        return level()
      },
      lifecycle: this.#routeLifecycle,
      sequence: this.#sequence,
      get strategy() {
        return strategy()
      },
      get defaultTimeoutMs() {
        return timeoutOf(strategy())
      },
      route: (id) => this.#route(id),
    })
    const internals = {
      level: this.#sequence.levelCell,
      recordDropped: (endpoint: string, n: number) => this.#metrics.messagesDropped(endpoint, n),
    }
    registerBuiltins(this.#registry.components, {
      internals,
      logger: () => this.logger,
      mocks: this.#mocks,
      eventBus: this.#eventBus,
      control: () => this,
    })
    const c = this.#registry.components
    for (const [scheme, comp] of Object.entries(options.components ?? {})) c.set(scheme.toLowerCase(), comp)
  }

  get status(): ContextStatus {
    return this.#lifecycle.status
  }

  get shutdownLevel(): ShutdownLevel {
    return this.#sequence.level
  }

  get inflight(): InflightRepository {
    return this.#inflight
  }

  get metrics(): MetricsRegistry | undefined {
    return this.#metrics.registry
  }

  // --- configuration --------------------------------------------------------------------------

  addComponent(scheme: string, component: Component): this {
    this.#lifecycle.assertConfigurable(`add component "${scheme}"`)
    this.#registry.components.set(scheme.toLowerCase(), component)
    return this
  }

  addRoutes(fn: (r: RouteDsl) => void): Promise<void> {
    const status = this.#lifecycle.status
    if (status === 'stopping' || status === 'stopped') throw errors.shuttingDown('addRoutes')
    const added = this.#registry.add(fn)
    if (status !== 'started') return Promise.resolve()
    return this.#startAdded(added.routes, added.producers)
  }

  /** Routes added to a started context start at once; one that fails stops the others of its batch. */
  async #startAdded(routes: readonly Route[], producers: readonly { start?(): unknown }[]): Promise<void> {
    for (const p of producers) await p.start?.()
    const started: Route[] = []
    try {
      for (const r of routes) {
        if (!r.definition.autoStartup) continue
        await this.#routeLifecycle.start(r)
        started.push(r)
      }
    } catch (err) {
      const signal = AbortSignal.timeout(this.#nowBudgetMs)
      for (const r of started.reverse()) await this.#safely(() => this.#routeLifecycle.stop(r, true, signal))
      throw err
    }
  }

  // --- lifecycle ------------------------------------------------------------------------------

  start(): Promise<void> {
    try {
      this.#lifecycle.to('starting')
    } catch {
      return Promise.reject(errors.alreadyStarted('start'))
    }
    for (const w of lintRoutes(this.#registry.routes)) this.#warnOnce(w.key, { route: w.routeId }, w.message)
    this.#starting = startContext({
      lifecycle: this.#lifecycle,
      routeLifecycle: this.#routeLifecycle,
      components: () => this.#uniqueComponents(),
      producers: () => this.#registry.producers(),
      routes: this.#registry.routes,
      componentContext: this.#componentContext,
      emit: (e) => this.#events.next(e),
      logger: this.logger,
      nowBudgetMs: this.#nowBudgetMs,
    })
    return this.#starting
  }

  stop(options: { timeoutMs?: number } = {}): Promise<ShutdownReport> {
    if (options.timeoutMs !== undefined) {
      // A refused call changes nothing: no shutdown starts, and a later valid stop() works (SPEC §2).
      try {
        validateDuration('timeoutMs', options.timeoutMs)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return this.#shutdown(false, options.timeoutMs)
  }

  forceStop(): Promise<ShutdownReport> {
    if (this.#stopping !== undefined) {
      this.#sequence.escalate()
      return this.#stopping
    }
    return this.#shutdown(true, undefined)
  }

  whenStopped(): Promise<ShutdownReport> {
    return this.#stopped.promise
  }

  run(options?: RunOptions): Promise<ShutdownReport> {
    return runContext(this, options)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  #shutdown(forced: boolean, timeoutMs: number | undefined): Promise<ShutdownReport> {
    this.#stopping ??= this.#runShutdown(forced, timeoutMs ?? this.#timeoutOf(this.shutdownStrategy))
    return this.#stopping
  }

  async #runShutdown(forced: boolean, timeoutMs: number): Promise<ShutdownReport> {
    const deadlines = this.#sequence.begin(timeoutMs, forced)
    // A stop during start waits (bounded) for the start to settle; a start that failed stopped everything.
    if (this.#lifecycle.status === 'starting' && this.#starting !== undefined) {
      const starting = this.#starting
      await deadlines.settle(deadlines.phase, 'Context start', () => starting.catch(() => undefined))
    }
    let report: ShutdownReport
    if (this.#lifecycle.status === 'stopped') {
      deadlines.close()
      report = { graceful: true, forced, timedOut: false, durationMs: 0, routes: [] }
    } else {
      this.#lifecycle.to('stopping')
      const routes = this.#registry.routes.filter((r) => r.status !== 'stopped')
      const span = ShutdownSpan.start({
        contextName: this.name,
        forced,
        timeoutMs,
        routes: routes.length,
        inflight: routes.reduce((n, r) => n + r.inflightCount(), 0),
      })
      const traced = span === undefined ? undefined : this.#events.subscribe((e) => span.event(e))
      report = await this.#sequence.run(this.shutdownStrategy, routes, timeoutMs, forced)
      traced?.unsubscribe()
      span?.end(report)
      this.#lifecycle.to('stopped')
      this.#metrics.shutdownFinished(report.durationMs / 1000, report.forced)
    }
    this.#events.next({ type: 'context-stopped', report })
    this.#events.complete()
    this.#stopped.resolve(report)
    return report
  }

  #timeoutOf(strategy: ShutdownStrategy): number {
    return strategy instanceof DefaultShutdownStrategy ? strategy.timeoutMs : this.#defaultTimeoutMs
  }

  *#uniqueComponents(): Generator<[string, Component]> {
    const seen = new Set<Component>()
    for (const [scheme, c] of this.#registry.components) {
      if (seen.has(c)) continue
      seen.add(c)
      yield [scheme, c]
    }
  }

  #warnOnce(key: string, fields: object, message: string): void {
    if (this.#warned.has(key)) return
    this.#warned.add(key)
    this.logger.warn(fields, message)
  }

  async #safely(fn: () => unknown): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.logger.error({ err }, messageOf(err))
    }
  }

  // --- per-route control ----------------------------------------------------------------------

  #route(id: string): Route {
    const r = this.#registry.route(id)
    if (r === undefined) throw errors.unknownRoute(id)
    return r
  }

  routes(): RouteInfo[] {
    return this.#registry.routes.map((r) => r.info())
  }

  routeStatus(id: string): string {
    return this.#route(id).status
  }

  startRoute(id: string): Promise<void> {
    return this.#control.start(id)
  }

  suspendRoute(id: string): Promise<void> {
    return this.#control.suspend(id)
  }

  resumeRoute(id: string): Promise<void> {
    return this.#control.resume(id)
  }

  stopRoute(id: string, options?: StopRouteOptions): Promise<boolean> {
    return this.#control.stop(id, options)
  }

  // --- listeners, producer, mocks, health ---------------------------------------------------------

  onShutdownNotice(fn: Listener<NoticePayload>): () => void {
    this.#noticeListeners.add(fn)
    return () => this.#noticeListeners.delete(fn)
  }

  onShutdownNow(fn: Listener<NowPayload>): () => void {
    this.#nowListeners.add(fn)
    return () => this.#nowListeners.delete(fn)
  }

  producer(): ProducerTemplate {
    return createProducerTemplate(this.#registry.template)
  }

  mock(name: string): MockEndpoint {
    return this.#mocks.get(name)
  }

  health(): { live: boolean; ready: boolean } {
    const status = this.#lifecycle.status
    let ready = status === 'started' && this.shutdownLevel === 'running'
    if (ready) for (const [, c] of this.#uniqueComponents()) if (c.healthy?.() === false) ready = false
    if (ready)
      for (const r of this.#registry.routes) if (r.status === 'started' && !r.state.ready) ready = false
    return { live: status !== 'stopped', ready }
  }
}

/**
 * pino at info to stdout, written synchronously: with stdout a pipe or a file (every container), pino's
 * asynchronous writer let the lines still queued at `process.exit` overtake the one being written, so the
 * shutdown log — the product's main window — arrived out of order or cut short.
 */
function defaultLogger(name: string): Logger {
  // The mixin adds `trace_id`/`span_id` of the active span (an exchange's, while tracing is on).
  return pino({ name, level: 'info', mixin: traceLogFields }, pino.destination({ dest: 1, sync: true }))
}

export type { RouteDefinition }
