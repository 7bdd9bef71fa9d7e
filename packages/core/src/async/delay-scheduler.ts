import { errors } from '../errors.js'
import type { DefaultExchange } from '../exchange/exchange.js'

interface Sleeper {
  readonly exchange: DefaultExchange
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
  timer: NodeJS.Timeout | undefined
}

function wake(scheduler: DelayScheduler, s: Sleeper): void {
  scheduler.release(s)
  s.resolve()
}

/**
 * Non-blocking waits for `delay`, `asyncRoute`, throttling and redelivery. One Node timer per sleeper
 * (Node keeps timers of equal duration in one list, so insert and fire are O(1): no per-tick scan), and a
 * set of sleepers so NOW can cancel them all at once. An aborted exchange's sleep ends at once through the
 * exchange's `waiting` hook, without a scan.
 * @internal
 */
export class DelayScheduler {
  readonly #sleepers = new Set<Sleeper>()
  #closed = false

  get size(): number {
    return this.#sleepers.size
  }

  /** Waits `ms`; rejects at once when the exchange is aborted or the scheduler closed (after NOW). */
  sleep(exchange: DefaultExchange, ms: number, what = 'delay'): Promise<void> {
    if (exchange.abortReason !== undefined) return Promise.reject(errors.aborted(exchange.abortReason))
    if (this.#closed) return Promise.reject(errors.shuttingDown(what))
    return new Promise<void>((resolve, reject) => {
      const s: Sleeper = { exchange, resolve, reject, timer: undefined }
      s.timer = setTimeout(wake, ms, this, s)
      this.#sleepers.add(s)
      exchange.waiting = () => this.#cancel(s)
    })
  }

  /** @internal */
  release(s: Sleeper): void {
    this.#sleepers.delete(s)
    if (s.exchange.waiting !== undefined) s.exchange.waiting = undefined
  }

  #cancel(s: Sleeper): void {
    if (!this.#sleepers.delete(s)) return
    clearTimeout(s.timer)
    s.reject(errors.aborted(s.exchange.abortReason ?? 'forced shutdown'))
  }

  /**
   * At NOW: aborts every sleeping exchange (its sleep rejects as aborted, so its consumer hands it back) and
   * rejects new sleeps with DROMEDARY_ERR_SHUTTING_DOWN, so no timer outlives the context; returns how many.
   */
  close(): number {
    this.#closed = true
    let n = 0
    for (const s of [...this.#sleepers]) {
      // `abort` runs the exchange's `waiting` hook, which cancels this sleep.
      if (!s.exchange.abort('shutdown now')) this.#cancel(s)
      n++
    }
    return n
  }
}
