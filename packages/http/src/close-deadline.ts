/**
 * The deadline of a close: aborts once any signal given to it aborts (the context's NOW deadline, an
 * escalation). Every wait of the close is raced against it, so a close that must end hard stops waiting on
 * peers at once. `dispose()` forgets the signals when the close is over.
 */
export class CloseDeadline {
  #passed = false
  #pass: () => void = () => undefined
  readonly #whenPassed = new Promise<void>((resolve) => (this.#pass = resolve))
  readonly #signals: AbortSignal[] = []

  /** True once a signal aborted. */
  get passed(): boolean {
    return this.#passed
  }

  /** Passes the deadline when `signal` aborts (at once if it has). */
  add(signal: AbortSignal | undefined): void {
    if (signal === undefined || this.#passed) return
    if (signal.aborted) return this.#onAbort()
    signal.addEventListener('abort', this.#onAbort, { once: true })
    this.#signals.push(signal)
  }

  /** Resolves with `p`'s value, or with `fallback` once the deadline passes. */
  race<T>(p: Promise<T>, fallback: T): Promise<T> {
    if (this.#passed) return Promise.resolve(fallback)
    return Promise.race([p, this.#whenPassed.then(() => fallback)])
  }

  dispose(): void {
    for (const s of this.#signals.splice(0)) s.removeEventListener('abort', this.#onAbort)
  }

  readonly #onAbort = (): void => {
    this.#passed = true
    this.#pass()
  }
}
