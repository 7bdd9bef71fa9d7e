import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { CounterMetric, GaugeMetric, MetricsFactory } from '../spi/metrics.js'

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

const NOOP_ROUTE: RouteMetrics = { completed() {}, failed() {}, aborted() {}, up() {} }

/** The core metrics of SPEC §8 in one registry. @internal */
export class ContextMetrics {
  readonly registry: Registry | undefined
  readonly factory: MetricsFactory | undefined
  readonly #context: string
  readonly #prefix: string
  readonly #exchanges: Counter<'context' | 'route' | 'outcome'> | undefined
  readonly #duration: Histogram<'context' | 'route'> | undefined
  readonly #routeUp: Gauge<'context' | 'route'> | undefined
  readonly #level: Gauge<'context'> | undefined
  readonly #shutdownDuration: Gauge<'context'> | undefined
  readonly #forced: Counter<'context'> | undefined

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
    this.registry = registry
    const registers = [registry]
    this.#exchanges = new Counter({
      name: `${p}exchanges_total`,
      help: 'Exchanges finished, by outcome (completed, failed, aborted)',
      labelNames: ['context', 'route', 'outcome'] as const,
      registers,
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
    this.#duration = new Histogram({
      name: `${p}exchange_duration_seconds`,
      help: 'Time from exchange creation to completion',
      labelNames: ['context', 'route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    })
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
    this.factory = {
      counter: <L extends string>(name: string, help: string, labelNames: readonly L[]): CounterMetric<L> => {
        const c =
          existing(registry, `${p}${name}`) ??
          new Counter({ name: `${p}${name}`, help, labelNames, registers })
        const counter = c as Counter<L>
        return {
          inc: (labels, value = 1) => counter.inc(labels as never, value),
          labels: (labels) => counter.labels(labels as never),
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
    dur.zero({ context, route })
    const d = dur.labels({ context, route })
    const u = up.labels({ context, route })
    u.set(0)
    return {
      completed(s) {
        completed.inc()
        d.observe(s)
      },
      failed(s) {
        failed.inc()
        d.observe(s)
      },
      aborted(s) {
        aborted.inc()
        d.observe(s)
      },
      up(v) {
        u.set(v)
      },
    }
  }

  shutdownLevel(level: 0 | 1 | 2): void {
    this.#level?.set({ context: this.#context }, level)
  }

  shutdownFinished(seconds: number, forced: boolean): void {
    this.#shutdownDuration?.set({ context: this.#context }, seconds)
    if (forced) this.#forced?.inc({ context: this.#context })
  }
}

function existing(registry: Registry, name: string): unknown {
  return registry.getSingleMetric(name)
}
