/** Settings of `LeakyBucket`. */
export interface LeakyBucketOptions {
  /** Requests per second each key's bucket drains (the steady rate a key is shaped to). @default 5 */
  ratePerSecond?: number
  /** Requests a key may send at once before it is delayed (the bucket size). @default 3 */
  burst?: number
  /** A request that would wait longer than this is rejected instead. @default 2000 */
  maxDelayMs?: number
}

/** What the bucket decided for one request. */
export type Admission = { readonly admitted: true; readonly delayMs: number } | { readonly admitted: false }

interface Bucket {
  level: number
  at: number
}

/**
 * The per-key leaky bucket behind seed 003's `REQUESTSHAPER` route (there an HTTP service answering
 * `/add?key=$fd` with a delay): every key has a bucket draining at `ratePerSecond`; a request that finds it
 * below `burst` passes at once, later ones wait their turn (`delayMs`), and one that would wait more than
 * `maxDelayMs` is rejected.
 */
export class LeakyBucket {
  readonly ratePerSecond: number
  readonly burst: number
  readonly maxDelayMs: number
  readonly #buckets = new Map<string, Bucket>()

  constructor(options: LeakyBucketOptions = {}) {
    this.ratePerSecond = options.ratePerSecond ?? 5
    this.burst = options.burst ?? 3
    this.maxDelayMs = options.maxDelayMs ?? 2000
  }

  /** Adds a request for `key` at time `now` (ms) and says whether and after how long it may go on. */
  add(key: string, now: number): Admission {
    let b = this.#buckets.get(key)
    if (b === undefined) this.#buckets.set(key, (b = { level: 0, at: now }))
    b.level = Math.max(0, b.level - ((now - b.at) * this.ratePerSecond) / 1000)
    b.at = now
    const over = b.level + 1 - this.burst
    const delayMs = over <= 0 ? 0 : Math.ceil((over * 1000) / this.ratePerSecond)
    if (delayMs > this.maxDelayMs) return { admitted: false }
    b.level += 1
    return { admitted: true, delayMs }
  }
}
