/** A cumulative histogram as Prometheus exposes it: upper bounds (the last is `+Inf`) and counts `<=` each. */
export interface CumulativeHistogram {
  readonly bounds: readonly number[]
  readonly counts: readonly number[]
}

/**
 * The `q`-quantile of a cumulative histogram, interpolated linearly inside the bucket that holds it, as
 * PromQL's `histogram_quantile` does: null without observations; the highest finite bound when it falls in the
 * `+Inf` bucket; the first bucket starts at 0.
 */
export function histogramQuantile(q: number, h: CumulativeHistogram): number | null {
  const n = h.counts.length
  const total = h.counts[n - 1] ?? 0
  if (n === 0 || !(total > 0) || !(q >= 0 && q <= 1)) return null
  const rank = q * total
  let i = 0
  while (i < n - 1 && h.counts[i]! < rank) i++
  const upper = h.bounds[i]!
  if (upper === Number.POSITIVE_INFINITY) return n >= 2 ? h.bounds[n - 2]! : null
  const lower = i === 0 ? 0 : h.bounds[i - 1]!
  const below = i === 0 ? 0 : h.counts[i - 1]!
  const inBucket = h.counts[i]! - below
  if (inBucket <= 0) return upper
  return lower + (upper - lower) * ((rank - below) / inBucket)
}

/** The counts observed between two samples of the same histogram; null when it was reset in between. */
export function histogramDelta(
  older: CumulativeHistogram,
  newer: CumulativeHistogram,
): CumulativeHistogram | null {
  if (older.counts.length !== newer.counts.length) return null
  const counts = newer.counts.map((c, i) => c - older.counts[i]!)
  return counts.some((c) => c < 0) ? null : { bounds: newer.bounds, counts }
}

/** One sample of one route's figures. */
export interface RouteSample {
  readonly at: number
  /** Exchanges finished so far (every outcome). */
  readonly finished: number
  readonly histogram: CumulativeHistogram | undefined
}

/** Rate and percentiles of one route, from its recent samples. */
export interface RouteFigures {
  readonly rate: number | null
  readonly p50: number | null
  readonly p99: number | null
  readonly history: readonly number[]
}

/**
 * The recent samples of one route: the rate between the last two, percentiles over up to `windowMs`, and the
 * last `historyLength` rates for a sparkline. Counters that go backwards (a registry reset) restart the window.
 */
export class RouteWindow {
  readonly #windowMs: number
  readonly #historyLength: number
  #samples: RouteSample[] = []
  readonly #history: number[] = []

  constructor(windowMs: number, historyLength: number) {
    this.#windowMs = windowMs
    this.#historyLength = historyLength
  }

  /** Adds a sample and returns the figures it gives. */
  add(sample: RouteSample): RouteFigures {
    const previous = this.#samples[this.#samples.length - 1]
    if (previous !== undefined && (sample.finished < previous.finished || sample.at <= previous.at))
      this.#samples = []
    const last = this.#samples[this.#samples.length - 1]
    this.#samples.push(sample)
    while (this.#samples.length > 2 && sample.at - this.#samples[1]!.at >= this.#windowMs)
      this.#samples.shift()
    let rate: number | null = null
    if (last !== undefined) {
      // Three decimals are plenty for a display and keep the snapshots small.
      rate = Math.round(((sample.finished - last.finished) * 1e6) / (sample.at - last.at)) / 1000
      this.#history.push(rate)
      if (this.#history.length > this.#historyLength) this.#history.shift()
    }
    const first = this.#samples[0]!
    const delta =
      first === sample || first.histogram === undefined || sample.histogram === undefined
        ? sample.histogram
        : (histogramDelta(first.histogram, sample.histogram) ?? undefined)
    return {
      rate,
      p50: delta === undefined ? null : histogramQuantile(0.5, delta),
      p99: delta === undefined ? null : histogramQuantile(0.99, delta),
      history: [...this.#history],
    }
  }
}
