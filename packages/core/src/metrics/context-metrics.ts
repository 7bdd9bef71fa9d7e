import { Counter, Gauge, Registry } from 'prom-client'
import { errors } from '../errors.js'
import type { CounterMetric, GaugeMetric, MetricsFactory } from '../spi/metrics.js'
import { MetricsHub, type ContextPart, type RouteSampler, type WorkerGroupSampler } from './metrics-hub.js'
import { RouteSeries } from './route-series.js'

export type { RouteSampler, WorkerGroupSampler } from './metrics-hub.js'

/** The prom-client Registry type, re-exported so no other folder imports prom-client. */
export type MetricsRegistry = Registry

/** `metrics` context option. */
export interface MetricsOptions {
  /** The registry to register into. @default a new Registry (never prom-client's global one unless given) */
  registry?: Registry
  /** Prefix of every metric name. @default 'dromedary_' */
  prefix?: string
}

/** The bound per-route children the hot path increments. @internal */
export interface RouteMetrics {
  completed(seconds: number): void
  failed(seconds: number): void
  aborted(seconds: number): void
  /** Work a forced stop dropped before it started (queued seda messages, worker tasks): `aborted`, no duration. */
  dropped(count: number): void
  up(value: 0 | 1): void
}

const NOOP_ROUTE: RouteMetrics = { completed() {}, failed() {}, aborted() {}, dropped() {}, up() {} }

/**
 * One context's metrics (SPEC §8): its series in the registry's shared core metrics (see `MetricsHub`), and
 * the factory transport packages register their own metrics through.
 * @internal
 */
export class ContextMetrics {
  readonly registry: Registry | undefined
  readonly factory: MetricsFactory | undefined
  readonly #context: string
  readonly #hub: MetricsHub | undefined
  readonly #part: ContextPart
  /** The registry was given by the user (maybe shared): a stopped context's series are removed from it. */
  readonly #shared: boolean
  readonly #routes: string[] = []
  readonly #endpoints = new Set<string>()

  constructor(
    context: string,
    options: MetricsOptions | false,
    sampler: RouteSampler,
    workers: WorkerGroupSampler,
  ) {
    this.#context = context
    this.#part = { context, sampler, workers, series: [], flushes: [] }
    this.#shared = options !== false && options.registry !== undefined
    if (options === false) {
      this.registry = undefined
      this.factory = undefined
      this.#hub = undefined
      return
    }
    const registry = options.registry ?? new Registry()
    const p = options.prefix ?? 'dromedary_'
    // prom-client would throw a plain Error from the first metric below (test/reliability fuzz-dsl-and-uris).
    if (typeof p !== 'string' || !/^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(p))
      throw errors.invalidContextOption(
        'metrics.prefix',
        p,
        'a Prometheus name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)',
      )
    this.registry = registry
    const hub = (this.#hub = MetricsHub.of(registry, p))
    hub.parts.add(this.#part)
    hub.level.set({ context }, 0)
    hub.forced.inc({ context }, 0)
    this.factory = createFactory(registry, p)
  }

  /** Binds (and zeroes) the series of one route. */
  route(route: string): RouteMetrics {
    const hub = this.#hub
    if (hub === undefined) return NOOP_ROUTE
    const ex = hub.exchanges
    const up = hub.routeUp
    const context = this.#context
    this.#routes.push(route)
    const completed = ex.labels({ context, route, outcome: 'completed' })
    const failed = ex.labels({ context, route, outcome: 'failed' })
    const aborted = ex.labels({ context, route, outcome: 'aborted' })
    completed.inc(0)
    failed.inc(0)
    aborted.inc(0)
    const series = new RouteSeries(context, route)
    this.#part.series.push(series)
    this.#part.flushes.push(() => {
      completed.inc(series.completed)
      failed.inc(series.failed)
      aborted.inc(series.aborted)
      series.completed = series.failed = series.aborted = 0
    })
    const u = up.labels({ context, route })
    u.set(0)
    return {
      completed(s) {
        series.completed++
        series.observe(s)
      },
      failed(s) {
        series.failed++
        series.observe(s)
      },
      aborted(s) {
        series.aborted++
        series.observe(s)
      },
      dropped(n) {
        if (n > 0) series.aborted += n
      },
      up(v) {
        u.set(v)
      },
    }
  }

  /** Messages dropped at stop from an in-memory queue no route consumes. */
  messagesDropped(endpoint: string, count: number): void {
    this.#endpoints.add(endpoint)
    this.#hub?.dropped.inc({ context: this.#context, endpoint }, count)
  }

  shutdownLevel(level: 0 | 1 | 2): void {
    this.#hub?.level.set({ context: this.#context }, level)
  }

  shutdownFinished(seconds: number, forced: boolean): void {
    const hub = this.#hub
    if (hub === undefined) return
    hub.shutdownDuration.set({ context: this.#context }, seconds)
    if (forced) hub.forced.inc({ context: this.#context })
    // In a registry of the user's (maybe shared with other contexts), a stopped context leaves no series.
    if (this.#shared) hub.detach(this.#part, this.#routes, [...this.#endpoints])
  }
}

/**
 * The metric factory transport packages get. A metric another context already registered under the same name
 * is reused. Bound counter children add up in plain numbers, handed to prom-client when scraped (as
 * RouteSeries does for the core series): a prom-client `inc` hashes its label set each time.
 */
function createFactory(registry: Registry, p: string): MetricsFactory {
  const registers = [registry]
  const batches = new Map<unknown, CounterBatch>()
  return {
    counter: <L extends string>(name: string, help: string, labelNames: readonly L[]): CounterMetric<L> => {
      let c = existing(registry, `${p}${name}`)
      if (c === undefined) {
        const batch = new CounterBatch()
        c = new Counter({ name: `${p}${name}`, help, labelNames, registers, collect: () => batch.flush() })
        batches.set(c, batch)
      }
      const counter = c as Counter<L>
      const batch = batches.get(counter)
      return {
        inc: (labels, value = 1) => counter.inc(labels as never, value),
        labels: (labels) =>
          batch === undefined
            ? counter.labels(labels as never)
            : batch.child(labelNames.map((n) => labels[n]).join('\u0000'), () =>
                counter.labels(labels as never),
              ),
      }
    },
    gauge: <L extends string>(name: string, help: string, labelNames: readonly L[]): GaugeMetric<L> => {
      const g =
        existing(registry, `${p}${name}`) ?? new Gauge({ name: `${p}${name}`, help, labelNames, registers })
      const gauge = g as Gauge<L>
      return {
        set: (labels, value) => gauge.set(labels as never, value),
        inc: (labels, value = 1) => gauge.inc(labels as never, value),
        dec: (labels, value = 1) => gauge.dec(labels as never, value),
      }
    },
  }
}

/** The bound children of one counter, one per label set, whose increments wait for the next scrape. */
class CounterBatch {
  readonly #children = new Map<string, BatchedChild>()

  child(key: string, bind: () => { inc(value?: number): void }): { inc(value?: number): void } {
    let c = this.#children.get(key)
    if (c === undefined) this.#children.set(key, (c = new BatchedChild(bind())))
    return c
  }

  flush(): void {
    for (const c of this.#children.values()) c.flush()
  }
}

class BatchedChild {
  readonly #bound: { inc(value?: number): void }
  #pending = 0

  constructor(bound: { inc(value?: number): void }) {
    this.#bound = bound
  }

  inc(value = 1): void {
    // Zero creates the series at once; a bad value throws at the caller, as prom-client would.
    if (value > 0 && Number.isFinite(value)) this.#pending += value
    else this.#bound.inc(value)
  }

  flush(): void {
    if (this.#pending === 0) return
    this.#bound.inc(this.#pending)
    this.#pending = 0
  }
}

function existing(registry: Registry, name: string): unknown {
  return registry.getSingleMetric(name)
}
