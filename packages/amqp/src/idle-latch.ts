/**
 * Counts operations in progress and resolves waiters the moment the count reaches zero (event-driven drain,
 * no polling).
 * @internal
 */
export class IdleLatch {
  #count = 0
  #waiters: Array<() => void> = []

  get count(): number {
    return this.#count
  }

  inc(): void {
    this.#count++
  }

  dec(): void {
    if (--this.#count === 0 && this.#waiters.length > 0) {
      const waiters = this.#waiters
      this.#waiters = []
      for (const resolve of waiters) resolve()
    }
  }

  /** Resolves when the count is zero (at once if it already is). */
  whenIdle(): Promise<void> {
    if (this.#count === 0) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }
}
