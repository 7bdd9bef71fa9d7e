/**
 * Exponential backoff with ±20 % jitter between `initialDelayMs` and `maxDelayMs` (the component's
 * `reconnect` settings), for a consumer that subscribes again after the broker cancelled it.
 * @internal
 */
export class Backoff {
  readonly #initialDelayMs: number
  readonly #maxDelayMs: number
  #attempt = 0

  constructor(initialDelayMs: number, maxDelayMs: number) {
    this.#initialDelayMs = initialDelayMs
    this.#maxDelayMs = Math.max(initialDelayMs, maxDelayMs)
  }

  /** The delay before the next attempt, in ms; grows with each call until `reset()`. */
  next(): number {
    const base = Math.min(this.#maxDelayMs / 1.2, this.#initialDelayMs * 2 ** Math.min(this.#attempt, 30))
    this.#attempt++
    return Math.max(0, Math.round(base * (0.8 + Math.random() * 0.4)))
  }

  reset(): void {
    this.#attempt = 0
  }
}
