import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { histogramDelta, histogramQuantile, RouteWindow } from '../../src/management/console-stats.js'

const BOUNDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, Number.POSITIVE_INFINITY]

/** A cumulative histogram from per-bucket counts. */
const cumulative = (perBucket: readonly number[]) => {
  let acc = 0
  return { bounds: BOUNDS, counts: perBucket.map((n) => (acc += n)) }
}

const perBucket = fc.array(fc.nat({ max: 1000 }), { minLength: BOUNDS.length, maxLength: BOUNDS.length })

describe('histogramQuantile', () => {
  it('is null without observations or for a q outside 0…1', () => {
    expect(histogramQuantile(0.5, cumulative(BOUNDS.map(() => 0)))).toBeNull()
    expect(histogramQuantile(Number.NaN, cumulative(BOUNDS.map(() => 1)))).toBeNull()
    expect(histogramQuantile(1.5, cumulative(BOUNDS.map(() => 1)))).toBeNull()
    expect(histogramQuantile(0.5, { bounds: [], counts: [] })).toBeNull()
  })

  it('interpolates inside the bucket holding the rank, as PromQL does', () => {
    // 10 observations ≤ 1 ms, 10 in (1 ms, 5 ms]: the median is the top of the first bucket, p75 halfway up the second.
    const h = cumulative([10, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.001)
    expect(histogramQuantile(0.75, h)).toBeCloseTo(0.003)
  })

  it('answers the highest finite bound when the rank falls in the +Inf bucket', () => {
    expect(histogramQuantile(0.99, cumulative([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99]))).toBe(30)
  })

  it('stays within the bounds of its bucket and never decreases with q', () => {
    fc.assert(
      fc.property(
        perBucket,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, a, b) => {
          const h = cumulative(n)
          const total = h.counts[h.counts.length - 1]!
          const qa = histogramQuantile(Math.min(a, b), h)
          const qb = histogramQuantile(Math.max(a, b), h)
          if (total === 0) return expect([qa, qb]).toEqual([null, null])
          expect(qa).not.toBeNull()
          expect(qa!).toBeGreaterThanOrEqual(0)
          expect(qb!).toBeLessThanOrEqual(30)
          expect(qb!).toBeGreaterThanOrEqual(qa! - 1e-12)
        },
      ),
    )
  })
})

describe('histogramDelta', () => {
  it('gives what was observed between two samples, and null when counts went backwards (a reset)', () => {
    fc.assert(
      fc.property(perBucket, perBucket, (a, b) => {
        const older = cumulative(a)
        const newer = cumulative(a.map((n, i) => n + b[i]!))
        expect(histogramDelta(older, newer)?.counts).toEqual(cumulative(b).counts)
        if (b.some((n) => n > 0)) expect(histogramDelta(newer, older)).toBeNull()
      }),
    )
  })
})

describe('RouteWindow', () => {
  it('gives the rate between the last two samples and keeps the last rates for the sparkline', () => {
    const w = new RouteWindow(60_000, 3)
    expect(w.add({ at: 0, finished: 0, histogram: undefined }).rate).toBeNull()
    expect(w.add({ at: 1000, finished: 10, histogram: undefined }).rate).toBe(10)
    expect(w.add({ at: 3000, finished: 14, histogram: undefined }).rate).toBe(2)
    w.add({ at: 4000, finished: 14, histogram: undefined })
    expect(w.add({ at: 5000, finished: 15, histogram: undefined }).history).toEqual([2, 0, 1])
  })

  it('computes percentiles over the window only, forgetting older observations', () => {
    const w = new RouteWindow(10_000, 60)
    // 100 slow exchanges (in the 5…10 s bucket) first, then only fast ones (≤ 1 ms) for more than the window.
    const slow = cumulative([0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0])
    w.add({ at: 0, finished: 0, histogram: cumulative(BOUNDS.map(() => 0)) })
    let figures = w.add({ at: 1000, finished: 100, histogram: slow })
    expect(figures.p50).toBeGreaterThan(5)
    for (let t = 2; t <= 13; t++)
      figures = w.add({
        at: t * 1000,
        finished: 100 + t * 10,
        histogram: cumulative([t * 10, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0]),
      })
    expect(figures.p99).toBeLessThanOrEqual(0.001)
  })

  it('starts again when the counters go backwards', () => {
    const w = new RouteWindow(60_000, 60)
    w.add({ at: 0, finished: 50, histogram: undefined })
    w.add({ at: 1000, finished: 60, histogram: undefined })
    expect(w.add({ at: 2000, finished: 5, histogram: undefined }).rate).toBeNull()
  })
})
