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
 * set of sleepers so a forced stop can cancel them all at once.
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
    })
  }

  /** @internal */
  release(s: Sleeper): void {
    this.#sleepers.delete(s)
  }

  /**
   * Cancels the sleeps of aborted exchanges (all when `all`, aborting those exchanges too), rejecting them;
   * returns how many.
   */
  cancel(all: boolean): number {
    let n = 0
    for (const s of this.#sleepers) {
      if (!all && s.exchange.abortReason === undefined) continue
      clearTimeout(s.timer)
      this.#sleepers.delete(s)
      s.exchange.abort('forced shutdown')
      s.reject(errors.aborted(s.exchange.abortReason ?? 'forced shutdown'))
      n++
    }
    return n
  }

  /** At NOW: cancels every sleep and rejects new ones with DROMEDARY_ERR_SHUTTING_DOWN, so no timer outlives the context. */
  close(): number {
    this.#closed = true
    return this.cancel(true)
  }
}
