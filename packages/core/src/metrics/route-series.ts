import type { Histogram } from 'prom-client'

/** Upper bounds (seconds) of `exchange_duration_seconds`. */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30]

/**
 * One route's exchange outcomes and durations as plain numbers. The hot path only adds to them; prom-client
 * reads them when the registry is scraped. A prom-client `inc`/`observe` per exchange hashes the label set
 * into a string each time, which cost more than the rest of a synchronous route (issue 8).
 * @internal
 */
export class RouteSeries {
  readonly labels: { readonly context: string; readonly route: string }
  /** Outcomes not yet handed to the prom-client counter (see `ContextMetrics`). */
  completed = 0
  failed = 0
  aborted = 0
  count = 0
  sum = 0
  /** Observations per bucket, not cumulative; the last slot is `+Inf`. */
  readonly buckets: number[] = new Array<number>(DURATION_BUCKETS.length + 1).fill(0)

  constructor(context: string, route: string) {
    this.labels = { context, route }
  }

  observe(seconds: number): void {
    this.count++
    this.sum += seconds
    let i = 0
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++
    this.buckets[i]!++
  }
}

type HistogramValue = { labels: Record<string, string | number>; value: number; metricName: string }

/**
 * `exchange_duration_seconds` as a collectable the registry reads at scrape time: the same series, labels
 * and values a prom-client `Histogram` with these buckets would give, computed from the route series.
 * @internal
 */
export class DurationHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly collect = undefined
  readonly name: string
  readonly help: string
  readonly #series: () => readonly RouteSeries[]

  constructor(name: string, help: string, series: () => readonly RouteSeries[]) {
    this.name = name
    this.help = help
    this.#series = series
  }

  /** For `registry.registerMetric`, which is typed for prom-client's own classes only. */
  asMetric(): Histogram {
    return this as unknown as Histogram
  }

  async get(): Promise<{
    name: string
    help: string
    type: 'histogram'
    aggregator: 'sum'
    values: HistogramValue[]
  }> {
    const values: HistogramValue[] = []
    const bucket = `${this.name}_bucket`
    for (const s of this.#series()) {
      let acc = 0
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        acc += s.buckets[i]!
        values.push({ labels: { le: DURATION_BUCKETS[i]!, ...s.labels }, value: acc, metricName: bucket })
      }
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: bucket })
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** `registry.resetMetrics()`. */
  reset(): void {
    for (const s of this.#series()) {
      s.count = 0
      s.sum = 0
      s.buckets.fill(0)
    }
  }
}
