import { describe, expect, it } from 'vitest'
import { LeakyBucket } from '../src/leaky-bucket.js'

describe('LeakyBucket', () => {
  it('lets a burst through without delay', () => {
    const b = new LeakyBucket({ ratePerSecond: 5, burst: 3 })
    expect([1, 2, 3].map(() => b.add('alice', 0))).toEqual([
      { admitted: true, delayMs: 0 },
      { admitted: true, delayMs: 0 },
      { admitted: true, delayMs: 0 },
    ])
  })

  it('spaces requests beyond the burst at the drain rate', () => {
    const b = new LeakyBucket({ ratePerSecond: 5, burst: 1, maxDelayMs: 10_000 })
    const delays = [0, 0, 0, 0].map((now) => b.add('alice', now))
    expect(delays.map((a) => (a.admitted ? a.delayMs : -1))).toEqual([0, 200, 400, 600])
  })

  it('rejects a request that would wait longer than maxDelayMs', () => {
    const b = new LeakyBucket({ ratePerSecond: 10, burst: 1, maxDelayMs: 150 })
    const results = [0, 0, 0].map((now) => b.add('alice', now))
    expect(results).toEqual([
      { admitted: true, delayMs: 0 },
      { admitted: true, delayMs: 100 },
      { admitted: false },
    ])
  })

  it('drains over time, so a caller that slows down is no longer delayed', () => {
    const b = new LeakyBucket({ ratePerSecond: 5, burst: 1 })
    b.add('alice', 0)
    expect(b.add('alice', 100)).toEqual({ admitted: true, delayMs: 100 })
    expect(b.add('alice', 1000)).toEqual({ admitted: true, delayMs: 0 })
  })

  it('keeps one bucket per key', () => {
    const b = new LeakyBucket({ ratePerSecond: 5, burst: 1 })
    b.add('alice', 0)
    expect(b.add('bob', 0)).toEqual({ admitted: true, delayMs: 0 })
  })
})
