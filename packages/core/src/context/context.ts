import { pino } from 'pino'
import type { Observable } from 'rxjs'
import { Subject } from 'rxjs'
import { DelayScheduler } from '../async/delay-scheduler.js'
import { WorkerGroup } from '../async/worker-group.js'
import { controlbusComponent, type ControlTarget } from '../components/controlbus/controlbus-component.js'
import { directComponent } from '../components/direct/direct-component.js'
import { EventBus } from '../components/event/event-component.js'
import type { CoreInternals } from '../components/internals.js'
import { logComponent } from '../components/log/log-component.js'
import { MockRegistry } from '../components/mock/mock-component.js'
import type { MockEndpoint } from '../components/mock/mock-endpoint.js'
import { sedaComponent } from '../components/seda/seda-component.js'
import { timerComponent } from '../components/timer/timer-component.js'
import { compilePipeline } from '../engine/compile.js'
import { ErrorHandler } from '../engine/error-handler.js'
import { errors, messageOf } from '../errors.js'
import { DefaultInflightRepository, type InflightRepository } from '../inflight/inflight-repository.js'
import { ContextMetrics, type MetricsRegistry } from '../metrics/context-metrics.js'
import { collectRoutes, type RouteDsl } from '../route/route-builder.js'
import type { RouteDefinition, StepDefinition } from '../route/route-definition.js'
import { Route, type RouteInfo } from '../route/route.js'
import { DefaultShutdownStrategy } from '../shutdown/default-shutdown-strategy.js'
import type { ShutdownReport } from '../shutdown/report.js'
import type { ShutdownContext, ShutdownStrategy } from '../shutdown/shutdown-strategy.js'
import type { Component, ComponentContext, Endpoint, Producer, ShutdownLevel } from '../spi/component.js'
import { silentLogger, type Logger } from '../spi/logger.js'
import { parseUri } from '../uri/uri.js'
import type { ContextEvent } from './events.js'
import { Lifecycle, type ContextStatus } from './lifecycle.js'
import type { ContextOptions } from './options.js'
import { createProducerTemplate, type ProducerTemplate } from './producer-template.js'
import { createRouteHandle, type RouteControl } from './route-handle.js'
import { runContext, type RunOptions } from './runner.js'

type Listener<T> = (payload: T) => void | Promise<void>
const LEVEL_GAUGE: Record<ShutdownLevel, 0 | 1 | 2> = { running: 0, pending: 1, shutdown: 2 }
const FIRST_UNNUMBERED = 1000

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
  addRoutes(fn: (r: RouteDsl) => void): this
  start(): Promise<void>
  stop(options?: { timeoutMs?: number }): Promise<ShutdownReport>
  forceStop(): Promise<ShutdownReport>
  whenStopped(): Promise<ShutdownReport>
  run(options?: RunOptions): Promise<ShutdownReport>
  routes(): RouteInfo[]
  startRoute(id: string): Promise<void>
  stopRoute(id: string, options?: { timeoutMs?: number; abortAfterTimeout?: boolean }): Promise<boolean>
  suspendRoute(id: string): Promise<void>
  resumeRoute(id: string): Promise<void>
  onShutdownNotice(fn: Listener<{ secondsUntilNow: number }>): () => void
  onShutdownNow(fn: Listener<{ milliseconds: number; forced: boolean }>): () => void
  producer(): ProducerTemplate
  mock(name: string): MockEndpoint
  health(): { live: boolean; ready: boolean }
}

/**
 * Creates an integration context.
 * @example
 * const ctx = createContext({ name: 'orders' })
 * ctx.addRoutes((r) => r.from('timer:tick?period=1000').to('log:tick'))
 * await ctx.run()
 */
export function createContext(options: ContextOptions = {}): IntegrationContext {
  return new DefaultIntegrationContext(options)
}

class DefaultIntegrationContext implements IntegrationContext, CoreInternals, ControlTarget, RouteControl {
  readonly name: string
  readonly logger: Logger
  shutdownStrategy: ShutdownStrategy
  readonly #lifecycle = new Lifecycle()
  readonly #inflight = new DefaultInflightRepository()
  readonly #scheduler = new DelayScheduler()
  readonly #events = new Subject<ContextEvent>()
  readonly events$: Observable<ContextEvent> = this.#events.asObservable()
  readonly #components = new Map<string, Component>()
  readonly #endpoints = new Map<string, Endpoint>()
  readonly #producers = new Map<string, Producer>()
  readonly #routes: Route[] = []
  readonly #workerGroups = new Map<string, WorkerGroup>()
  readonly #eventBus = new EventBus()
  readonly #mocks = new MockRegistry()
  readonly #metrics: ContextMetrics
  readonly #componentContext: ComponentContext
  readonly #noticeListeners = new Set<Listener<{ secondsUntilNow: number }>>()
  readonly #nowListeners = new Set<Listener<{ milliseconds: number; forced: boolean }>>()
  readonly #preStopDelayMs: number
  readonly #nowBudgetMs: number
  readonly #warned = new Set<string>()
  #level: ShutdownLevel = 'running'
  #routeCounter = 0
  #stopping: Promise<ShutdownReport> | undefined
  #starting: Promise<void> | undefined
  #escalate: () => void = () => undefined
  #escalated = false
  #stopped: { promise: Promise<ShutdownReport>; resolve: (r: ShutdownReport) => void }

  constructor(options: ContextOptions) {
    this.name = options.name ?? 'dromedary'
    this.logger =
      options.logger === false ? silentLogger : (options.logger ?? pino({ name: this.name, level: 'info' }))
    this.shutdownStrategy = options.shutdownStrategy ?? new DefaultShutdownStrategy()
    this.#preStopDelayMs = options.shutdown?.preStopDelayMs ?? 0
    this.#nowBudgetMs = options.shutdown?.nowBudgetMs ?? 5000
    let resolveStopped!: (r: ShutdownReport) => void
    this.#stopped = { promise: new Promise((r) => (resolveStopped = r)), resolve: resolveStopped }
    const groups = { default: { workers: 1 }, ...options.workerGroups }
    for (const [name, g] of Object.entries(groups)) this.#workerGroups.set(name, new WorkerGroup(name, g))
    const routes = this.#routes
    this.#metrics = new ContextMetrics(
      this.name,
      options.metrics ?? {},
      {
        routeIds: () => routes.map((r) => r.id),
        inflight: (id) => routes.find((r) => r.id === id)?.inflightCount() ?? 0,
        pending: (id) => routes.find((r) => r.id === id)?.info().pending ?? 0,
      },
      { groups: () => this.#workerGroups.values() },
    )
    const level = (): ShutdownLevel => this.#level
    this.#componentContext = {
      name: this.name,
      logger: this.logger,
      metrics: this.#metrics.factory,
      get shutdownLevel() {
        return level()
      },
    }
    this.#components.set('direct', directComponent(this))
    this.#components.set('seda', sedaComponent(this))
    this.#components.set('timer', timerComponent())
    this.#components.set(
      'log',
      logComponent(() => this.logger),
    )
    this.#components.set('mock', this.#mocks.component())
    this.#components.set(
      'controlbus',
      controlbusComponent(() => this),
    )
    this.#components.set('event', this.#eventBus.component())
    for (const [scheme, c] of Object.entries(options.components ?? {})) this.#components.set(scheme, c)
  }

  get status(): ContextStatus {
    return this.#lifecycle.status
  }

  get shutdownLevel(): ShutdownLevel {
    return this.#level
  }

  get inflight(): InflightRepository {
    return this.#inflight
  }

  get metrics() {
    return this.#metrics.registry
  }

  // --- configuration --------------------------------------------------------------------------

  addComponent(scheme: string, component: Component): this {
    this.#lifecycle.assertConfigurable(`add component "${scheme}"`)
    this.#components.set(scheme.toLowerCase(), component)
    return this
  }

  addRoutes(fn: (r: RouteDsl) => void): this {
    const status = this.#lifecycle.status
    if (status === 'stopping' || status === 'stopped') throw errors.shuttingDown('addRoutes')
    const defs = collectRoutes(fn)
    const ids = new Set(this.#routes.map((r) => r.id))
    const orders = new Map(this.#routes.map((r) => [r.startupOrder, r.id]))
    const explicit = new Set(defs.map((d) => d.id).filter((x) => x !== undefined))
    // Unnumbered routes come after the numbered ones, in definition order, from 1000 up.
    let unnumbered = Math.max(
      FIRST_UNNUMBERED - 1,
      ...this.#routes.map((r) => r.startupOrder),
      ...defs.map((d) => d.startupOrder ?? 0),
    )
    const built: Route[] = []
    for (const def of defs) {
      let id = def.id
      if (id === undefined) {
        do id = `route${++this.#routeCounter}`
        while (ids.has(id) || explicit.has(id))
      }
      if (ids.has(id)) throw errors.duplicateRouteId(id)
      ids.add(id)
      if (def.startupOrder !== undefined) {
        const other = orders.get(def.startupOrder)
        if (other !== undefined) throw errors.duplicateStartupOrder(def.startupOrder, other, id)
        orders.set(def.startupOrder, id)
      }
      built.push(new Route(def, id, def.startupOrder ?? ++unnumbered, this.#routeContext()))
    }
    for (const r of built) this.#build(r)
    this.#routes.push(...built)
    this.#routes.sort((a, b) => a.startupOrder - b.startupOrder)
    if (this.#lifecycle.status === 'started')
      for (const r of built) if (r.definition.autoStartup) void this.startRoute(r.id)
    return this
  }

  #routeContext() {
    const level = (): ShutdownLevel => this.#level
    return {
      logger: this.logger,
      inflight: this.#inflight,
      scheduler: this.#scheduler,
      get shutdownLevel() {
        return level()
      },
    }
  }

  #endpoint(routeId: string, uri: string): Endpoint {
    const cached = this.#endpoints.get(uri)
    if (cached !== undefined) return cached
    const parsed = parseUri(routeId, uri)
    const component = this.#components.get(parsed.scheme)
    if (component === undefined) throw errors.unknownScheme(routeId, uri, parsed.scheme)
    const endpoint = component.createEndpoint(parsed, this.#componentContext)
    this.#endpoints.set(uri, endpoint)
    return endpoint
  }

  #producerFor(routeId: string, uri: string): Producer {
    const cached = this.#producers.get(uri)
    if (cached !== undefined) return cached
    const endpoint = this.#endpoint(routeId, uri)
    if (endpoint.createProducer === undefined) throw errors.notAProducer(routeId, uri)
    const producer = endpoint.createProducer()
    this.#producers.set(uri, producer)
    if (this.#lifecycle.status === 'started' && producer.start !== undefined) {
      // toD to a new endpoint at run time: start it before use.
      const started = producer.start()
      if (started !== undefined) return { process: (ex) => started.then(() => producer.process(ex)) }
    }
    return producer
  }

  #build(route: Route): void {
    const id = route.id
    const def = route.definition
    checkGroups(id, def.steps, this.#workerGroups)
    const host = route
    const errorHandler = new ErrorHandler(def.onExceptions, {
      mayRedeliver: () => this.#level === 'running' || def.shutdownRunningTask === 'completeAllTasks',
      sleep: (ex, ms) => this.#scheduler.sleep(ex, ms),
      producerFor: (uri) => this.#producerFor(id, uri),
      logDeadLetterFailure: (ex, err) =>
        this.logger.error(
          { route: id, exchangeId: ex.id, err },
          `Dead letter delivery failed: ${messageOf(err)}`,
        ),
    })
    for (const c of def.onExceptions) if (c.options.to !== undefined) this.#producerFor(id, c.options.to)
    route.pipeline = compilePipeline(def.steps, {
      routeId: id,
      logger: this.logger,
      scheduler: this.#scheduler,
      pendingOwner: route,
      errorHandler,
      producerFor: (uri) => this.#producerFor(id, uri),
      workerGroup: (name) => this.#workerGroups.get(name) ?? failGroup(id, name),
      emitEvent: (type, key, value) => this.#eventBus.emit('tkv', type, key, value),
      assertAcceptingAsync: (what) => {
        if (this.#level === 'shutdown') throw errors.shuttingDown(what)
      },
      dispatchNew: (uri, body, headers) =>
        route.dispatch(
          route.createExchange(body, headers),
          this.#producerFor(id, uri),
          `asyncTaskData to ${uri}`,
        ),
      recordDropped: () => route.metrics.dropped(1),
      warnOnce: (key, message) => {
        if (this.#warned.has(key)) return
        this.#warned.add(key)
        this.logger.warn({ route: id }, message)
      },
    })
    const endpoint = this.#endpoint(id, def.from)
    if (endpoint.createConsumer === undefined) throw errors.notAConsumer(id, def.from)
    route.consumer = endpoint.createConsumer(host)
    route.metrics = this.#metrics.route(id)
  }

  // --- lifecycle ------------------------------------------------------------------------------

  start(): Promise<void> {
    try {
      this.#lifecycle.to('starting')
    } catch {
      return Promise.reject(errors.alreadyStarted('start'))
    }
    this.#starting = this.#start()
    return this.#starting
  }

  async #start(): Promise<void> {
    this.#events.next({ type: 'context-starting' })
    const started: Route[] = []
    try {
      for (const c of new Set(this.#components.values())) await c.start?.(this.#componentContext)
      for (const p of this.#producers.values()) await p.start?.()
      for (const r of this.#routes) {
        if (!r.definition.autoStartup) continue
        await this.#startRoute(r)
        started.push(r)
      }
    } catch (err) {
      for (const r of started.reverse()) await this.#safely(() => r.consumer.stop({ forced: true }))
      for (const r of started) this.#markStopped(r, true)
      // Whatever the components opened (connections, servers) is closed again.
      for (const c of new Set(this.#components.values()))
        await this.#safely(() => c.close?.({ forced: true }))
      this.#lifecycle.to('stopped')
      throw err
    }
    this.#lifecycle.to('started')
    this.#events.next({ type: 'context-started' })
  }

  async #startRoute(r: Route): Promise<void> {
    try {
      await r.consumer.start()
    } catch (err) {
      throw errors.routeStartFailed(r.id, err)
    }
    r.status = 'started'
    r.metrics.up(1)
    this.#events.next({ type: 'route-started', routeId: r.id })
  }

  #markStopped(r: Route, forced: boolean): void {
    if (r.status === 'stopped') return
    r.status = 'stopped'
    r.metrics.up(0)
    this.#events.next({ type: 'route-stopped', routeId: r.id, forced })
  }

  stop(options: { timeoutMs?: number } = {}): Promise<ShutdownReport> {
    return this.#shutdown(false, options.timeoutMs)
  }

  forceStop(): Promise<ShutdownReport> {
    if (this.#stopping !== undefined) {
      this.#escalated = true
      this.#escalate()
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
    this.#stopping ??= this.#runShutdown(forced, timeoutMs)
    return this.#stopping
  }

  async #runShutdown(forced: boolean, timeoutMs: number | undefined): Promise<ShutdownReport> {
    const status = this.#lifecycle.status
    // A stop during start waits for the start to settle; a start that failed already stopped everything.
    if (status === 'starting') await this.#starting?.catch(() => undefined)
    if (this.#lifecycle.status === 'stopped') {
      const report: ShutdownReport = { graceful: true, forced, timedOut: false, durationMs: 0, routes: [] }
      this.#stopped.resolve(report)
      return report
    }
    this.#lifecycle.to('stopping')
    const escalated = new Promise<void>((resolve) => {
      this.#escalate = resolve
      if (this.#escalated) resolve()
    })
    const strategy = this.shutdownStrategy
    const timeout = timeoutMs ?? (strategy instanceof DefaultShutdownStrategy ? strategy.timeoutMs : 300_000)
    const routes = this.#routes.filter((r) => r.status !== 'stopped')
    const ctx = this.#shutdownContext(routes, escalated)
    let report: ShutdownReport
    try {
      report = await strategy.shutdown(ctx, { timeoutMs: timeout, forced })
    } catch (err) {
      this.logger.error({ err }, `Shutdown strategy failed: ${messageOf(err)}; forcing`)
      for (const r of routes) await this.#safely(() => this.stopConsumer(r, true))
      await this.#enterNow(this.#nowBudgetMs, true)
      report = { graceful: false, forced: true, timedOut: false, durationMs: 0, routes: [] }
    }
    // Whatever the strategy did, nothing outlives the context: a consumer it left running (a custom strategy,
    // `shutdownNowOnTimeout: false`) stops taking work now, without aborting what is still in flight (Camel).
    for (const r of routes) if (r.status !== 'stopped') await this.#safely(() => this.stopConsumer(r, false))
    if (this.#level !== 'shutdown') await this.#enterNow(this.#nowBudgetMs, report.forced)
    for (const r of this.#routes) this.#markStopped(r, report.forced)
    this.#lifecycle.to('stopped')
    this.#metrics.shutdownFinished(report.durationMs / 1000, report.forced)
    this.#events.next({ type: 'context-stopped', report })
    this.#events.complete()
    this.#stopped.resolve(report)
    return report
  }

  #shutdownContext(routes: readonly Route[], escalated: Promise<void>): ShutdownContext {
    return {
      routes: routes.map((r) => createRouteHandle(r, this)),
      inflight: this.#inflight,
      logger: this.logger,
      clock: { now: () => Date.now() },
      nowBudgetMs: this.#nowBudgetMs,
      notice: (s) => this.#enterNotice(s, escalated),
      now: (ms, forced) => this.#enterNow(ms, forced),
      progress: (p) => this.#events.next({ type: 'shutdown-progress', ...p }),
      escalated,
      isEscalated: () => this.#escalated,
    }
  }

  async #enterNotice(secondsUntilNow: number, escalated: Promise<void>): Promise<void> {
    if (this.#level !== 'running') return
    // Admin before user work: level, event and listeners run before any further exchange is dispatched.
    this.#level = 'pending'
    this.#metrics.shutdownLevel(1)
    this.logger.info(
      { secondsUntilNow },
      `Shutdown notice: intake stops, ${secondsUntilNow} seconds until shutdown now`,
    )
    this.#events.next({ type: 'shutdown-notice', secondsUntilNow })
    await this.#callListeners(this.#noticeListeners, { secondsUntilNow })
    if (this.#preStopDelayMs > 0 && !this.#escalated) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([new Promise((r) => (timer = setTimeout(r, this.#preStopDelayMs))), escalated])
      clearTimeout(timer)
    }
  }

  async #enterNow(milliseconds: number, forced: boolean): Promise<void> {
    if (this.#level === 'shutdown') return
    if (this.#level === 'running') {
      this.#level = 'pending'
      this.#events.next({ type: 'shutdown-notice', secondsUntilNow: 0 })
    }
    this.#level = 'shutdown'
    this.#metrics.shutdownLevel(LEVEL_GAUGE.shutdown)
    this.logger.info({ milliseconds, forced }, `Shutdown now: ${milliseconds} ms for final cleanup`)
    this.#events.next({ type: 'shutdown-now', milliseconds, forced })
    const failures: unknown[] = []
    await this.#callListeners(this.#nowListeners, { milliseconds, forced })
    // Normally every route was drained or force-stopped (dropping its tasks) by now; this is the backstop.
    let dropped = 0
    for (const g of this.#workerGroups.values()) {
      g.close()
      dropped += g.dropQueued('shutdown now').dropped
    }
    if (dropped > 0) this.logger.warn({ dropped }, `Dropped ${dropped} queued async tasks at shutdown now`)
    const cancelled = this.#scheduler.close()
    if (cancelled > 0)
      this.logger.warn({ cancelled }, `Cancelled ${cancelled} pending delays at shutdown now`)
    for (const p of this.#producers.values()) {
      try {
        await p.stop?.()
      } catch (err) {
        failures.push(err)
      }
    }
    for (const c of new Set(this.#components.values())) {
      try {
        await c.close?.({ forced })
      } catch (err) {
        failures.push(err)
      }
    }
    if (failures.length > 0)
      this.logger.error({ err: errors.shutdownFailed(failures) }, 'Errors while closing components')
  }

  async #callListeners<T>(listeners: Set<Listener<T>>, payload: T): Promise<void> {
    const results = await Promise.allSettled([...listeners].map(async (fn) => fn(payload)))
    for (const r of results) {
      if (r.status !== 'rejected') continue
      const err: unknown = r.reason
      this.logger.error({ err }, `Shutdown listener failed: ${messageOf(err)}`)
    }
  }

  async #safely(fn: () => unknown): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.logger.error({ err }, messageOf(err))
    }
  }

  // --- RouteControl (used by route handles) ----------------------------------------------------

  async prepareConsumer(route: Route, forced: boolean): Promise<void> {
    if (route.status === 'stopped') return
    await route.consumer.prepareShutdown?.({ forced, task: route.definition.shutdownRunningTask })
  }

  async stopConsumer(route: Route, forced: boolean): Promise<void> {
    if (route.status === 'stopped') return
    const consumerPending = () => route.consumer.pendingExchanges?.() ?? 0
    const pendingBefore = consumerPending()
    await route.consumer.stop({ forced })
    if (forced) {
      const dropped = Math.max(0, pendingBefore - consumerPending())
      route.aborted += dropped
      route.metrics.dropped(dropped)
      this.#dropQueuedTasks(route)
    }
    await route.consumer.afterShutdown?.()
    this.#markStopped(route, forced)
  }

  /** A forced stop drops the route's tasks still queued on worker groups, logs how many, counts them aborted. */
  #dropQueuedTasks(route: Route): void {
    if (route.asyncPending === 0) return
    let dropped = 0
    const groups: string[] = []
    for (const g of this.#workerGroups.values()) {
      const r = g.dropQueued('forced shutdown', route)
      if (r.dropped === 0) continue
      dropped += r.dropped
      route.aborted += r.aborted
      groups.push(g.name)
    }
    if (dropped > 0)
      this.logger.warn(
        { route: route.id, dropped, groups },
        `Forced stop of ${route.id} dropped ${dropped} queued async tasks from worker groups [${groups.join(', ')}]`,
      )
  }

  async resumeIntake(route: Route): Promise<void> {
    if (route.consumer.resume !== undefined) await route.consumer.resume()
    else {
      await route.consumer.stop({ forced: false })
      await route.consumer.start()
    }
  }

  // --- per-route control ----------------------------------------------------------------------

  #route(id: string): Route {
    const r = this.#routes.find((x) => x.id === id)
    if (r === undefined) throw errors.unknownRoute(id)
    return r
  }

  routes(): RouteInfo[] {
    return this.#routes.map((r) => r.info())
  }

  routeStatus(id: string): string {
    return this.#route(id).status
  }

  async startRoute(id: string): Promise<void> {
    const r = this.#route(id)
    if (this.#level !== 'running') throw errors.shuttingDown(`start of route "${id}"`)
    if (this.#lifecycle.status !== 'started') throw errors.notStarted(`start route "${id}"`)
    if (r.status === 'started') return
    if (r.status === 'suspended') return this.resumeRoute(id)
    await this.#startRoute(r)
  }

  async suspendRoute(id: string): Promise<void> {
    const r = this.#route(id)
    if (r.status !== 'started') return
    if (r.consumer.suspend !== undefined) await r.consumer.suspend()
    else await r.consumer.stop({ forced: false })
    r.status = 'suspended'
    r.metrics.up(0)
  }

  async resumeRoute(id: string): Promise<void> {
    const r = this.#route(id)
    if (r.status !== 'suspended') return
    if (this.#level !== 'running') throw errors.shuttingDown(`resume of route "${id}"`)
    if (r.consumer.resume !== undefined) await r.consumer.resume()
    else await r.consumer.start()
    r.status = 'started'
    r.metrics.up(1)
  }

  async stopRoute(
    id: string,
    options: { timeoutMs?: number; abortAfterTimeout?: boolean } = {},
  ): Promise<boolean> {
    const r = this.#route(id)
    if (r.status === 'stopped') return true
    const strategy = this.shutdownStrategy
    const timeoutMs =
      options.timeoutMs ?? (strategy instanceof DefaultShutdownStrategy ? strategy.timeoutMs : 300_000)
    const never = new Promise<void>(() => undefined)
    const ctx = { ...this.#shutdownContext([r], never), isEscalated: () => false }
    const report = await strategy.shutdown(ctx, {
      timeoutMs,
      forced: false,
      routeIds: [id],
      ...(options.abortAfterTimeout === undefined ? {} : { abortAfterTimeout: options.abortAfterTimeout }),
    })
    if (report.timedOut && options.abortAfterTimeout === true) return false
    this.#markStopped(r, report.forced)
    return true
  }

  // --- listeners, producer, mocks, health ---------------------------------------------------------

  onShutdownNotice(fn: Listener<{ secondsUntilNow: number }>): () => void {
    this.#noticeListeners.add(fn)
    return () => this.#noticeListeners.delete(fn)
  }

  onShutdownNow(fn: Listener<{ milliseconds: number; forced: boolean }>): () => void {
    this.#nowListeners.add(fn)
    return () => this.#nowListeners.delete(fn)
  }

  producer(): ProducerTemplate {
    return createProducerTemplate((uri) => this.#producerFor('producerTemplate', uri))
  }

  mock(name: string): MockEndpoint {
    return this.#mocks.get(name)
  }

  health(): { live: boolean; ready: boolean } {
    const status = this.#lifecycle.status
    let ready = status === 'started' && this.#level === 'running'
    if (ready) for (const c of this.#components.values()) if (c.healthy?.() === false) ready = false
    if (ready) for (const r of this.#routes) if (r.status === 'started' && !r.ready) ready = false
    return { live: status !== 'stopped', ready }
  }
}

function failGroup(routeId: string, group: string): never {
  throw errors.unknownWorkerGroup(routeId, group)
}

function checkGroups(
  routeId: string,
  steps: readonly StepDefinition[],
  groups: ReadonlyMap<string, WorkerGroup>,
): void {
  for (const s of steps) {
    if ((s.kind === 'asyncTask' || s.kind === 'asyncTaskData') && !groups.has(s.group))
      throw errors.unknownWorkerGroup(routeId, s.group)
    if (s.kind === 'choice') {
      for (const w of s.whens) checkGroups(routeId, w.steps, groups)
      if (s.otherwise !== undefined) checkGroups(routeId, s.otherwise, groups)
    }
    if (s.kind === 'split') checkGroups(routeId, s.steps, groups)
  }
}

export type { RouteDefinition }
