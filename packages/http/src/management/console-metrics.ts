import type { WireWorkerGroup } from './console-wire.js'
import type { CumulativeHistogram } from './console-stats.js'

/** One value of a prom-client metric, as `metric.get()` returns it. */
interface MetricSample {
  readonly labels: Readonly<Partial<Record<string, string | number>>>
  readonly value: number
  readonly metricName?: string
}

/** The part of a prom-client `Registry` the console reads (the context's `ctx.metrics`). */
export interface ReadableRegistry {
  getMetricsAsArray(): ReadonlyArray<{ readonly name: string }>
  getSingleMetric(name: string): { get(): Promise<{ readonly values: readonly MetricSample[] }> } | undefined
}

/** What the metrics say about one route. */
export interface RouteMetricsReading {
  completed: number
  failed: number
  aborted: number
  histogram: CumulativeHistogram | undefined
}

/** One reading of the registry. */
export interface MetricsReading {
  readonly routes: ReadonlyMap<string, RouteMetricsReading>
  readonly workerGroups: readonly WireWorkerGroup[]
}

const EMPTY: MetricsReading = { routes: new Map(), workerGroups: [] }

/**
 * Reads the figures the context does not expose directly — outcomes, the duration histogram, worker groups —
 * from its metrics registry, as a scrape would. The metric prefix is found from the registry (the series of
 * `<prefix>shutdown_level` and `<prefix>exchanges_total`), so a custom `metrics.prefix` works; series of other
 * contexts sharing the registry are left out by their `context` label (worker-group gauges have none).
 */
export class ConsoleMetricsReader {
  readonly #registry: ReadableRegistry | undefined
  readonly #context: string
  #prefix: string | undefined

  constructor(registry: ReadableRegistry | undefined, context: string) {
    this.#registry = registry
    this.#context = context
  }

  /** Reads the registry; an empty reading when metrics are off or already removed (a stopped context). */
  async read(): Promise<MetricsReading> {
    const registry = this.#registry
    const p = this.#findPrefix()
    if (registry === undefined || p === undefined) return EMPTY
    const [totals, durations, busy, queued] = await Promise.all(
      ['exchanges_total', 'exchange_duration_seconds', 'worker_group_busy', 'worker_group_queue_size'].map(
        (name) =>
          registry
            .getSingleMetric(p + name)
            ?.get()
            .then((m) => m.values) ?? Promise.resolve([]),
      ),
    )
    const routes = new Map<string, RouteMetricsReading>()
    const routeOf = (labels: MetricSample['labels']): RouteMetricsReading | undefined => {
      if (labels.context !== this.#context || labels.route === undefined) return undefined
      const id = String(labels.route)
      let r = routes.get(id)
      if (r === undefined) routes.set(id, (r = { completed: 0, failed: 0, aborted: 0, histogram: undefined }))
      return r
    }
    for (const v of totals ?? []) {
      const r = routeOf(v.labels)
      const outcome = v.labels.outcome
      if (r !== undefined && (outcome === 'completed' || outcome === 'failed' || outcome === 'aborted'))
        r[outcome] += v.value
    }
    const buckets = `${p}exchange_duration_seconds_bucket`
    const bucketsByRoute = new Map<RouteMetricsReading, Array<[number, number]>>()
    for (const v of durations ?? []) {
      if (v.metricName !== buckets) continue
      const r = routeOf(v.labels)
      if (r === undefined) continue
      const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le)
      let list = bucketsByRoute.get(r)
      if (list === undefined) bucketsByRoute.set(r, (list = []))
      list.push([le, v.value])
    }
    for (const [r, list] of bucketsByRoute) {
      list.sort((a, b) => a[0] - b[0])
      r.histogram = { bounds: list.map((b) => b[0]), counts: list.map((b) => b[1]) }
    }
    return { routes, workerGroups: workerGroups(busy ?? [], queued ?? []) }
  }

  #findPrefix(): string | undefined {
    const registry = this.#registry
    if (registry === undefined) return undefined
    const names = new Set(registry.getMetricsAsArray().map((m) => m.name))
    if (this.#prefix !== undefined && names.has(`${this.#prefix}exchanges_total`)) return this.#prefix
    this.#prefix = undefined
    for (const name of names) {
      if (!name.endsWith('shutdown_level')) continue
      const p = name.slice(0, -'shutdown_level'.length)
      if (names.has(`${p}exchanges_total`)) return (this.#prefix = p)
    }
    return undefined
  }
}

function workerGroups(busy: readonly MetricSample[], queued: readonly MetricSample[]): WireWorkerGroup[] {
  const groups = new Map<string, { name: string; busy: number; queued: number }>()
  const group = (labels: MetricSample['labels']) => {
    const name = String(labels.group ?? '')
    let g = groups.get(name)
    if (g === undefined) groups.set(name, (g = { name, busy: 0, queued: 0 }))
    return g
  }
  for (const v of busy) group(v.labels).busy = v.value
  for (const v of queued) group(v.labels).queued = v.value
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name))
}
