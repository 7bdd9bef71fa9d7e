import { Counter, Gauge, Registry } from 'prom-client'
import { errors } from '../errors.js'
import type { CounterMetric, GaugeMetric, MetricsFactory } from '../spi/metrics.js'
import { DurationHistogram, RouteSeries } from './route-series.js'

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

/** Per-route sampled values read at scrape time, so the hot path never touches a gauge. @internal */
export interface RouteSampler {
  routeIds(): Iterable<string>
  inflight(routeId: string): number
  pending(routeId: string): number
}

/** Worker groups sampled at scrape time. @internal */
export interface WorkerGroupSampler {
  groups(): Iterable<{ readonly name: string; readonly queued: number; readonly busy: number }>
}

const NOOP_ROUTE: RouteMetrics = { completed() {}, failed() {}, aborted() {}, dropped() {}, up() {} }

/** The core metrics of SPEC §8 in one registry. @internal */
export class ContextMetrics {
  readonly registry: Registry | undefined
  readonly factory: MetricsFactory | undefined
  readonly #context: string
  readonly #prefix: string
  readonly #exchanges: Counter<'context' | 'route' | 'outcome'> | undefined
  readonly #duration: DurationHistogram | undefined
  /** Per-route outcomes and durations; the hot path adds to these, scrapes read them. */
  readonly #series: RouteSeries[] = []
  readonly #flushes: Array<() => void> = []
  readonly #routeUp: Gauge<'context' | 'route'> | undefined
  readonly #level: Gauge<'context'> | undefined
  readonly #shutdownDuration: Gauge<'context'> | undefined
  readonly #forced: Counter<'context'> | undefined
  readonly #dropped: Counter<'context' | 'endpoint'> | undefined

  constructor(
    context: string,
    options: MetricsOptions | false,
    sampler: RouteSampler,
    workers: WorkerGroupSampler,
  ) {
    this.#context = context
    if (options === false) {
      this.registry = undefined
      this.factory = undefined
      this.#prefix = ''
      return
    }
    const registry = options.registry ?? new Registry()
    const p = (this.#prefix = options.prefix ?? 'dromedary_')
    // prom-client would throw a plain Error from the first metric below (test/reliability fuzz-dsl-and-uris).
    if (typeof p !== 'string' || !/^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(p))
      throw errors.invalidContextOption(
        'metrics.prefix',
        p,
        'a Prometheus name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)',
      )
    this.registry = registry
    const registers = [registry]
    const flushes = this.#flushes
    this.#exchanges = new Counter({
      name: `${p}exchanges_total`,
      help: 'Exchanges finished, by outcome (completed, failed, aborted)',
      labelNames: ['context', 'route', 'outcome'] as const,
      registers,
      // Outcomes are counted in plain numbers per route and handed over when scraped (see RouteSeries).
      collect() {
        for (const flush of flushes) flush()
      },
    })
    new Gauge({
      name: `${p}exchanges_inflight`,
      help: 'Exchanges in flight per route',
      labelNames: ['context', 'route'] as const,
      registers,
      collect() {
        for (const route of sampler.routeIds()) this.set({ context, route }, sampler.inflight(route))
      },
    })
    new Gauge({
      name: `${p}exchanges_pending`,
      help: 'Exchanges taken by a consumer or queued for a worker but not started, per route',
      labelNames: ['context', 'route'] as const,
      registers,
      collect() {
        for (const route of sampler.routeIds()) this.set({ context, route }, sampler.pending(route))
      },
    })
    this.#duration = new DurationHistogram(
      `${p}exchange_duration_seconds`,
      'Time from exchange creation to completion',
      this.#series,
    )
    registry.registerMetric(this.#duration.asMetric())
    this.#routeUp = new Gauge({
      name: `${p}route_up`,
      help: '1 when the route is started, 0 otherwise',
      labelNames: ['context', 'route'] as const,
      registers,
    })
    this.#level = new Gauge({
      name: `${p}shutdown_level`,
      help: 'Shutdown level: 0 running, 1 pending (NOTICE), 2 shutdown (NOW)',
      labelNames: ['context'] as const,
      registers,
    })
    this.#level.set({ context }, 0)
    this.#shutdownDuration = new Gauge({
      name: `${p}shutdown_duration_seconds`,
      help: 'Duration of the last shutdown',
      labelNames: ['context'] as const,
      registers,
    })
    this.#forced = new Counter({
      name: `${p}shutdown_forced_total`,
      help: 'Shutdowns that had to force routes',
      labelNames: ['context'] as const,
      registers,
    })
    this.#forced.inc({ context }, 0)
    this.#dropped = new Counter({
      name: `${p}messages_dropped_total`,
      help: 'Messages dropped at stop from an in-memory queue that no route consumes',
      labelNames: ['context', 'endpoint'] as const,
      registers,
    })
    new Gauge({
      name: `${p}worker_group_queue_size`,
      help: 'Tasks queued in a worker group',
      labelNames: ['group'] as const,
      registers,
      collect() {
        for (const g of workers.groups()) this.set({ group: g.name }, g.queued)
      },
    })
    new Gauge({
      name: `${p}worker_group_busy`,
      help: 'Workers of a group running a task',
      labelNames: ['group'] as const,
      registers,
      collect() {
        for (const g of workers.groups()) this.set({ group: g.name }, g.busy)
      },
    })
    // Bound counter children of the factory's counters add up in plain numbers, handed to prom-client when
    // scraped (as RouteSeries does for the core series): a prom-client `inc` hashes its label set each time.
    const batches = new Map<unknown, CounterBatch>()
    this.factory = {
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

  /** Binds (and zeroes) the series of one route. */
  route(route: string): RouteMetrics {
    const ex = this.#exchanges
    const dur = this.#duration
    const up = this.#routeUp
    if (ex === undefined || dur === undefined || up === undefined) return NOOP_ROUTE
    const context = this.#context
    const completed = ex.labels({ context, route, outcome: 'completed' })
    const failed = ex.labels({ context, route, outcome: 'failed' })
    const aborted = ex.labels({ context, route, outcome: 'aborted' })
    completed.inc(0)
    failed.inc(0)
    aborted.inc(0)
    const series = new RouteSeries(context, route)
    this.#series.push(series)
    this.#flushes.push(() => {
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
    this.#dropped?.inc({ context: this.#context, endpoint }, count)
  }

  shutdownLevel(level: 0 | 1 | 2): void {
    this.#level?.set({ context: this.#context }, level)
  }

  shutdownFinished(seconds: number, forced: boolean): void {
    this.#shutdownDuration?.set({ context: this.#context }, seconds)
    if (forced) this.#forced?.inc({ context: this.#context })
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
