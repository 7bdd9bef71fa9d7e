import { setMaxListeners } from 'node:events'
import { messageOf } from '../errors.js'
import type { Logger } from '../spi/logger.js'

/**
 * The two phases of a shutdown's clock (SPEC §4.4): `stop` covers NOTICE, the pre-stop delay, stopping
 * intake, the drain and the deferred route stops (it ends `timeoutMs` after the start, or at once on
 * escalation); `now` covers forcing and NOW (it starts when forcing or NOW begins — at the latest when the
 * stop phase ends — and lasts `nowBudgetMs`).
 */
export type ShutdownPhase = 'stop' | 'now'

/** How one raced await ended. */
export type Settled = 'done' | 'failed' | 'overran'

/**
 * After the NOW deadline a participant whose signal just aborted gets this long to end hard (destroy its
 * sockets) before it is left behind; all of them share the window, so it adds to the bound only once.
 */
export const HARD_END_MS = 500

/**
 * The one deadline mechanism of a shutdown. Every await of the sequence goes through `settle`: the work gets
 * its phase's `AbortSignal`, and the await ends when the work settles or the phase is out of time — whatever
 * the work does. A participant still running when its signal aborts is named in a warning and counted in
 * `overran`. Its timers are cleared by `close()`, so a finished shutdown leaves none behind.
 * @internal
 */
export class ShutdownDeadlines {
  readonly startedAt: number
  readonly stopDeadline: number
  readonly nowBudgetMs: number
  /** What overran its deadline, in order; a non-empty list makes the report not graceful. */
  readonly overran: string[] = []
  readonly #logger: Logger
  readonly #stop = new AbortController()
  readonly #now = new AbortController()
  readonly #stopOver: Promise<void>
  readonly #nowOver: Promise<void>
  readonly #escalatedPromise: Promise<void>
  #resolveEscalated!: () => void
  #resolveNowOver!: () => void
  #nowDeadline: number | undefined = undefined
  #stopTimer: NodeJS.Timeout | undefined
  #nowTimer: NodeJS.Timeout | undefined
  #hardEndTimer: NodeJS.Timeout | undefined
  #escalated = false
  #closed = false

  constructor(timeoutMs: number, nowBudgetMs: number, logger: Logger) {
    this.startedAt = Date.now()
    this.stopDeadline = this.startedAt + timeoutMs
    this.nowBudgetMs = nowBudgetMs
    this.#logger = logger
    // Every participant of a phase listens on its signal at once (forcing 1000 routes, 20 listeners): no cap,
    // else Node warns of a possible leak past 10 listeners.
    setMaxListeners(0, this.#stop.signal, this.#now.signal)
    this.#escalatedPromise = new Promise((resolve) => (this.#resolveEscalated = resolve))
    this.#stopOver = new Promise((resolve) => this.#stop.signal.addEventListener('abort', () => resolve()))
    this.#nowOver = new Promise((resolve) => (this.#resolveNowOver = resolve))
    this.#stopTimer = setTimeout(() => this.#endStopPhase('timeout'), timeoutMs)
  }

  /** Aborted when the stop phase is out of time or the shutdown is escalated. */
  get stopSignal(): AbortSignal {
    return this.#stop.signal
  }

  /** Aborted at the NOW deadline. Reading it does not start the NOW clock. */
  get nowSignal(): AbortSignal {
    return this.#now.signal
  }

  /** Resolves when `escalate()` is called (`forceStop()`, a second signal). */
  get escalated(): Promise<void> {
    return this.#escalatedPromise
  }

  get isEscalated(): boolean {
    return this.#escalated
  }

  /** True once forcing or NOW began: forced work then runs against the NOW deadline. */
  get nowStarted(): boolean {
    return this.#nowDeadline !== undefined
  }

  /** Milliseconds until the NOW deadline (the whole budget while it has not started). */
  nowMillisecondsLeft(): number {
    return this.#nowDeadline === undefined ? this.nowBudgetMs : Math.max(0, this.#nowDeadline - Date.now())
  }

  /** Ends the stop phase at once and starts the NOW clock: nothing is drained any more. */
  escalate(): void {
    if (this.#escalated) return
    this.#escalated = true
    this.#resolveEscalated()
    this.#endStopPhase('escalated')
  }

  /** Starts the NOW clock (forcing or NOW begins); a second call changes nothing. */
  startNow(): void {
    if (this.#nowDeadline !== undefined || this.#closed) return
    this.#nowDeadline = Date.now() + this.nowBudgetMs
    this.#nowTimer = setTimeout(() => {
      this.#now.abort('deadline')
      this.#hardEndTimer = setTimeout(this.#resolveNowOver, HARD_END_MS)
    }, this.nowBudgetMs)
  }

  /** The phase that forced work runs in now: `now` once forcing or NOW began, else `stop`. */
  get phase(): ShutdownPhase {
    return this.nowStarted ? 'now' : 'stop'
  }

  /**
   * Runs `work` with the signal of `phase` and waits until it settles or the phase is out of time (stop
   * phase: its deadline or escalation; now phase: the NOW deadline plus the shared hard-end window). A
   * failure is logged and reported as `failed`; a participant still running when its signal aborts is
   * warned about by name (`what`) — unless the shutdown was escalated, which forces everything anyway.
   */
  settle(
    phase: ShutdownPhase,
    what: string,
    work: (signal: AbortSignal) => unknown,
  ): Settled | Promise<Settled> {
    if (phase === 'now') this.startNow()
    const signal = (phase === 'stop' ? this.#stop : this.#now).signal
    let result: unknown
    try {
      result = work(signal)
    } catch (err) {
      return this.#failed(what, err)
    }
    // A participant that finished synchronously costs no promise and no timer race.
    if (!isThenable(result)) return 'done'
    return this.#race(phase, what, signal, result)
  }

  async #race(
    phase: ShutdownPhase,
    what: string,
    signal: AbortSignal,
    work: PromiseLike<unknown>,
  ): Promise<Settled> {
    let finished = false
    const running = Promise.resolve(work).then(
      () => 'done' as const,
      (err: unknown) => this.#failed(what, err),
    )
    const onAbort = () => {
      if (finished || (phase === 'stop' && this.#escalated)) return
      const ms = phase === 'stop' ? this.stopDeadline - this.startedAt : this.nowBudgetMs
      this.overran.push(what)
      this.#logger.warn({ participant: what, ms }, `${what} did not finish within ${ms} ms`)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    const over = phase === 'stop' ? this.#stopOver : this.#nowOver
    const outcome = await Promise.race([running, over.then(() => 'overran' as const)])
    finished = true
    signal.removeEventListener('abort', onAbort)
    return outcome
  }

  #failed(what: string, err: unknown): 'failed' {
    this.#logger.error({ err }, `${what} failed: ${messageOf(err)}`)
    return 'failed'
  }

  /** Waits until `promise` settles or the shutdown is out of time altogether (NOW deadline + hard end). */
  async within<T>(promise: Promise<T>): Promise<{ readonly value: T } | undefined> {
    return Promise.race([promise.then((value) => ({ value })), this.#outOfTime()])
  }

  async #outOfTime(): Promise<undefined> {
    await this.#stopOver
    await this.#nowOver
    return undefined
  }

  /**
   * Ends both phases at once — every wait on them is released, as if out of time — and clears the timers: the
   * shutdown this one belongs to is over (a `stopRoute` still running when the context's shutdown ended).
   */
  end(): void {
    this.escalate()
    if (!this.#now.signal.aborted) this.#now.abort('ended')
    this.#resolveNowOver()
    this.close()
  }

  /** Clears every timer; the shutdown is over. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#stopTimer)
    clearTimeout(this.#nowTimer)
    clearTimeout(this.#hardEndTimer)
  }

  #endStopPhase(reason: 'timeout' | 'escalated'): void {
    clearTimeout(this.#stopTimer)
    if (!this.#stop.signal.aborted) this.#stop.abort(reason)
    // Whatever the strategy does next, forcing and NOW have their own budget from here.
    this.startNow()
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
