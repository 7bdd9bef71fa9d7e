import type { DelayScheduler } from '../async/delay-scheduler.js'
import type { WorkerGroup } from '../async/worker-group.js'
import { compilePipeline } from '../engine/compile.js'
import { ErrorHandler } from '../engine/error-handler.js'
import { errors } from '../errors.js'
import type { DefaultExchange } from '../exchange/exchange.js'
import type { DefaultInflightRepository } from '../inflight/inflight-repository.js'
import type { ContextMetrics } from '../metrics/context-metrics.js'
import { collectRoutes, type RouteDsl } from '../route/route-builder.js'
import type { RouteDefinition, StepDefinition } from '../route/route-definition.js'
import { Route, type RouteContext } from '../route/route.js'
import type {
  Component,
  ComponentContext,
  Consumer,
  Endpoint,
  Producer,
  ShutdownLevel,
} from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import { parseUri } from '../uri/uri.js'
import { ProducerCache } from './producer-cache.js'

const FIRST_UNNUMBERED = 1000

/** What building routes needs from the context. @internal */
export interface RegistryHost {
  readonly logger: Logger
  readonly shutdownLevel: ShutdownLevel
  readonly started: boolean
  readonly componentContext: ComponentContext
  readonly inflight: DefaultInflightRepository
  readonly scheduler: DelayScheduler
  readonly metrics: ContextMetrics
  readonly workerGroups: ReadonlyMap<string, WorkerGroup>
  readonly routeContext: RouteContext
  emitEvent(type: string, key: string, value: unknown): void
  warnOnce(key: string, routeId: string, message: string): void
}

/** Endpoints, producers and consumers made while building one `addRoutes` batch, committed only on success. */
class Batch {
  readonly endpoints = new Map<string, Endpoint>()
  readonly producers = new Map<string, Producer>()
  readonly consumers: Consumer[] = []
  readonly caches: ProducerCache[] = []
}

/** What a committed `addRoutes` batch made. @internal */
export interface AddedRoutes {
  readonly routes: readonly Route[]
  /** Producers the batch created (a started context starts them before the new routes). */
  readonly producers: readonly Producer[]
}

/**
 * Components, endpoints, producers and routes: builds route definitions into runtime routes (compiling their
 * steps and wiring error handlers, worker groups and producers). `addRoutes` is all or nothing (SPEC §2): a
 * batch that fails leaves no route, no endpoint and no claimed consumer behind.
 * @internal
 */
export class RouteRegistry {
  readonly components = new Map<string, Component>()
  /** In startup order. */
  readonly routes: Route[] = []
  readonly #byId = new Map<string, Route>()
  readonly #endpoints = new Map<string, Endpoint>()
  readonly #producers = new Map<string, Producer>()
  readonly #dynamic: ProducerCache[] = []
  readonly #host: RegistryHost
  readonly template: ProducerCache
  #routeCounter = 0

  constructor(host: RegistryHost) {
    this.#host = host
    this.template = this.#cache(1000, 'producerTemplate')
    this.#dynamic.push(this.template)
  }

  route(id: string): Route | undefined {
    return this.#byId.get(id)
  }

  /** Every producer by URI: static ones, then those cached for `toD` and the ProducerTemplate. */
  *producers(): Generator<readonly [string, Producer]> {
    yield* this.#producers
    for (const c of this.#dynamic) yield* c.producers()
  }

  /** Builds and commits a batch of routes; on any error nothing of the batch remains and the error is thrown. */
  add(fn: (r: RouteDsl) => void): AddedRoutes {
    const defs = collectRoutes(fn)
    const batch = new Batch()
    let built: Route[]
    try {
      built = this.#buildAll(defs, batch)
    } catch (err) {
      for (const c of batch.consumers) c.dispose?.()
      throw err
    }
    for (const [uri, e] of batch.endpoints) this.#endpoints.set(uri, e)
    for (const [uri, p] of batch.producers) this.#producers.set(uri, p)
    this.#dynamic.push(...batch.caches)
    for (const r of built) {
      this.#byId.set(r.id, r)
      // Bound only now: a rejected batch leaves no metric series either.
      r.metrics = this.#host.metrics.route(r.id)
    }
    this.routes.push(...built)
    this.routes.sort((a, b) => a.startupOrder - b.startupOrder)
    return { routes: built, producers: [...batch.producers.values()] }
  }

  #buildAll(defs: readonly RouteDefinition[], batch: Batch): Route[] {
    const ids = new Set(this.#byId.keys())
    const orders = new Map(this.routes.map((r) => [r.startupOrder, r.id]))
    const explicit = new Set(defs.map((d) => d.id).filter((x) => x !== undefined))
    // Unnumbered routes come after the numbered ones, in definition order, from 1000 up.
    let unnumbered = Math.max(
      FIRST_UNNUMBERED - 1,
      ...this.routes.map((r) => r.startupOrder),
      ...defs.map((d) => d.startupOrder ?? 0),
    )
    let counter = this.#routeCounter
    const built: Route[] = []
    for (const def of defs) {
      let id = def.id
      if (id === undefined) {
        do id = `route${++counter}`
        while (ids.has(id) || explicit.has(id))
      }
      if (ids.has(id)) throw errors.duplicateRouteId(id)
      ids.add(id)
      if (def.startupOrder !== undefined) {
        const other = orders.get(def.startupOrder)
        if (other !== undefined) throw errors.duplicateStartupOrder(def.startupOrder, other, id)
        orders.set(def.startupOrder, id)
      }
      built.push(new Route(def, id, def.startupOrder ?? ++unnumbered, this.#host.routeContext))
    }
    const byId = new Map(built.map((r) => [r.id, r]))
    for (const r of built) this.#build(r, batch, byId)
    this.#routeCounter = counter
    return built
  }

  #endpoint(routeId: string, uri: string, batch: Batch | undefined): Endpoint {
    const cached = this.#endpoints.get(uri) ?? batch?.endpoints.get(uri)
    if (cached !== undefined) return cached
    const endpoint = this.#createEndpoint(routeId, uri)
    batch?.endpoints.set(uri, endpoint)
    return endpoint
  }

  #createEndpoint(routeId: string, uri: string): Endpoint {
    const parsed = parseUri(routeId, uri)
    const component = this.components.get(parsed.scheme)
    if (component === undefined) throw errors.unknownScheme(routeId, uri, parsed.scheme)
    return component.createEndpoint(parsed, this.#host.componentContext)
  }

  #producer(routeId: string, uri: string, batch: Batch): Producer {
    const cached = this.#producers.get(uri) ?? batch.producers.get(uri)
    if (cached !== undefined) return cached
    const endpoint = this.#endpoint(routeId, uri, batch)
    if (endpoint.createProducer === undefined) throw errors.notAProducer(routeId, uri)
    const producer = endpoint.createProducer()
    batch.producers.set(uri, producer)
    return producer
  }

  /** A bounded cache of producers made on demand (not part of any batch); its endpoints are not cached. */
  #cache(size: number, routeId: string): ProducerCache {
    const host = this.#host
    return new ProducerCache(
      size,
      (uri) => {
        const endpoint = this.#endpoints.get(uri) ?? this.#createEndpoint(routeId, uri)
        if (endpoint.createProducer === undefined) throw errors.notAProducer(routeId, uri)
        return endpoint.createProducer()
      },
      () => host.started,
      host.logger,
    )
  }

  #build(route: Route, batch: Batch, batchRoutes: ReadonlyMap<string, Route>): void {
    const host = this.#host
    const id = route.id
    const def = route.definition
    checkGroups(id, def.steps, host.workerGroups)
    const producerFor = (uri: string) => this.#producer(id, uri, batch)
    const routeOf = (routeId: string) => this.#byId.get(routeId) ?? batchRoutes.get(routeId)
    const errorHandler = new ErrorHandler(def.onExceptions, {
      mayRedeliver: () => host.shutdownLevel === 'running' || def.shutdownRunningTask === 'completeAllTasks',
      canHandBack: (ex: DefaultExchange) => routeOf(ex.fromRouteId)?.consumer.handsBack === true,
      sleep: (ex, ms) => host.scheduler.sleep(ex, ms),
      // Resolved when the exchange fails, after the batch was committed (created below, at build time).
      producerFor: (uri) => this.#producers.get(uri) ?? failProducer(id, uri),
      logFailure: (ex, message, err) => host.logger.error({ route: id, exchangeId: ex.id, err }, message),
    })
    for (const c of def.onExceptions) if (c.options.to !== undefined) producerFor(c.options.to)
    const toD = this.#cache(def.toDCacheSize, id)
    batch.caches.push(toD)
    route.pipeline = compilePipeline(def.steps, {
      routeId: id,
      logger: host.logger,
      scheduler: host.scheduler,
      pendingOwner: route,
      errorHandler,
      tracing: route.tracing,
      producerFor,
      dynamicProducer: (uri) => toD.get(uri),
      workerGroup: (name) => host.workerGroups.get(name) ?? failGroup(id, name),
      emitEvent: (type, key, value) => host.emitEvent(type, key, value),
      assertAcceptingAsync: (what) => {
        if (host.shutdownLevel === 'shutdown') throw errors.shuttingDown(what)
      },
      dispatchNew: (uri, body, headers, trace) => {
        const ex = route.createExchange(body, headers) as DefaultExchange
        if (trace !== undefined) ex.traceContext = trace
        return route.dispatch(ex, this.#producers.get(uri)!, `asyncTaskData to ${uri}`)
      },
      recordDropped: () => route.metrics.dropped(1),
      warnOnce: (key, message) => host.warnOnce(key, id, message),
      track: (c) => route.track(c),
      untrack: (c) => route.untrack(c),
    })
    const endpoint = this.#endpoint(id, def.from, batch)
    if (endpoint.createConsumer === undefined) throw errors.notAConsumer(id, def.from)
    route.consumer = endpoint.createConsumer(route)
    batch.consumers.push(route.consumer)
  }
}

function failProducer(routeId: string, uri: string): never {
  throw errors.notAProducer(routeId, uri)
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
