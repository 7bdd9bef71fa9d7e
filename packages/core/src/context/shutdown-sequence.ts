import type { DelayScheduler } from '../async/delay-scheduler.js'
import type { WorkerGroup } from '../async/worker-group.js'
import { messageOf } from '../errors.js'
import type { DefaultInflightRepository } from '../inflight/inflight-repository.js'
import type { ContextMetrics } from '../metrics/context-metrics.js'
import type { Route } from '../route/route.js'
import { ShutdownDeadlines, type ShutdownPhase } from '../shutdown/deadline.js'
import { forceRoutes } from '../shutdown/force.js'
import type { RouteShutdownReport, ShutdownReport } from '../shutdown/report.js'
import type { RouteHandle, ShutdownContext, ShutdownStrategy } from '../shutdown/shutdown-strategy.js'
import type { Component, Producer, ShutdownLevel } from '../spi/component.js'
import { describeEndpoint } from '../shutdown/default-shutdown-strategy.js'
import type { Logger } from '../spi/logger.js'
import { abortInflight } from './abort-inflight.js'
import type { ContextEvent } from './events.js'
import { createRouteHandle } from './route-handle.js'
import type { RouteLifecycle } from './route-lifecycle.js'

/** A NOTICE or NOW listener (may return a promise, awaited with its phase). */
export type Listener<T> = (payload: T) => void | Promise<void>

/** What NOTICE listeners get; `signal` aborts when their phase is out of time (SPEC §4.4). */
export interface NoticePayload {
  readonly secondsUntilNow: number
  readonly signal: AbortSignal
}

/** What NOW listeners get; `signal` aborts at the NOW deadline. */
export interface NowPayload {
  readonly milliseconds: number
  readonly forced: boolean
  readonly signal: AbortSignal
}

const LEVEL_GAUGE: Record<ShutdownLevel, 0 | 1 | 2> = { running: 0, pending: 1, shutdown: 2 }

/** What the shutdown sequence needs from its context. @internal */
export interface SequenceHost {
  readonly logger: Logger
  readonly lifecycle: RouteLifecycle
  readonly inflight: DefaultInflightRepository
  readonly metrics: ContextMetrics
  readonly scheduler: DelayScheduler
  readonly workerGroups: ReadonlyMap<string, WorkerGroup>
  readonly preStopDelayMs: number
  readonly nowBudgetMs: number
  readonly noticeListeners: ReadonlySet<Listener<NoticePayload>>
  readonly nowListeners: ReadonlySet<Listener<NowPayload>>
  routes(): readonly Route[]
  producers(): Iterable<readonly [string, Producer]>
  components(): Iterable<[string, Component]>
  emit(event: ContextEvent): void
}

/**
 * The context's side of a shutdown (SPEC §4): the levels, NOTICE and NOW with their listeners, the pre-stop
 * delay, closing producers and components, and — around whatever strategy runs — the guarantees that do not
 * depend on it: every await is raced against the shutdown's deadlines, a strategy that throws or runs out of
 * time is replaced by the forced path, routes a strategy left are forced at NOW, and the whole sequence ends
 * within `timeoutMs + nowBudgetMs + 1 s` (`nowBudgetMs + 1 s` when forced).
 * @internal
 */
export class ShutdownSequence {
  readonly #host: SequenceHost
  /** The shutdown level, in a cell the in-memory components read on every send. */
  readonly levelCell: { value: ShutdownLevel } = { value: 'running' }
  #noticeDone = false
  #now: Promise<void> | undefined
  #deadlines: ShutdownDeadlines | undefined
  /** Deadlines of `stopRoute` calls in progress: escalated with the context. */
  readonly #routeStops = new Set<ShutdownDeadlines>()
  /** Routes the context itself forced at NOW (a strategy left them running). */
  readonly #forcedAtNow: RouteShutdownReport[] = []
  /** In-flight and pending per route when the shutdown began, for the routes the context reports itself. */
  #atStart = new Map<string, { readonly inflight: number; readonly pending: number }>()

  constructor(host: SequenceHost) {
    this.#host = host
  }

  get level(): ShutdownLevel {
    return this.levelCell.value
  }

  get deadlines(): ShutdownDeadlines | undefined {
    return this.#deadlines
  }

  /** Starts the clock of the context's shutdown; `forced` escalates it at once. */
  begin(timeoutMs: number, forced: boolean): ShutdownDeadlines {
    const d = new ShutdownDeadlines(timeoutMs, this.#host.nowBudgetMs, this.#host.logger)
    this.#deadlines = d
    if (forced) this.escalate()
    return d
  }

  /** `forceStop()` or a second signal: every wait of a graceful phase ends now, `stopRoute`s in progress too. */
  escalate(): void {
    this.#deadlines?.escalate()
    for (const d of this.#routeStops) d.escalate()
  }

  /** Deadlines for one `stopRoute`, escalated with the context's shutdown; `release` when done. */
  routeStop(timeoutMs: number): { readonly deadlines: ShutdownDeadlines; release(): void } {
    const deadlines = new ShutdownDeadlines(timeoutMs, this.#host.nowBudgetMs, this.#host.logger)
    this.#routeStops.add(deadlines)
    if (this.#deadlines?.isEscalated === true) deadlines.escalate()
    return {
      deadlines,
      release: () => {
        this.#routeStops.delete(deadlines)
        deadlines.close()
      },
    }
  }

  /** What a strategy gets for `routes` (the context's shutdown, or one `stopRoute`). */
  shutdownContext(routes: readonly Route[], deadlines: ShutdownDeadlines, scoped: boolean): ShutdownContext {
    const h = this.#host
    const scope = { lifecycle: h.lifecycle, deadlines, inflight: h.inflight }
    const handles = routes.map((r) => createRouteHandle(r, scope))
    const byId = new Map(routes.map((r) => [r.id, r]))
    return {
      routes: handles,
      inflight: h.inflight,
      logger: h.logger,
      clock: { now: () => Date.now() },
      nowBudgetMs: h.nowBudgetMs,
      notice: scoped ? async () => undefined : (s) => this.notice(s, deadlines),
      now: scoped ? async () => undefined : (_ms, forced) => this.now(forced, deadlines),
      progress: (p) => h.emit({ type: 'shutdown-progress', ...p }),
      escalated: deadlines.escalated,
      isEscalated: () => deadlines.isEscalated,
      signal: deadlines.stopSignal,
      abortInflight: (hs: readonly RouteHandle[], reason: string) =>
        abortInflight(
          h.inflight,
          hs.map((x) => byId.get(x.id)).filter((r) => r !== undefined),
          reason,
        ),
    }
  }

  /**
   * Runs `strategy` for the context's shutdown and makes its outcome hold whatever the strategy did: out of
   * time or failed → the forced path; routes left running → forced at NOW; NOW always entered.
   */
  async run(
    strategy: ShutdownStrategy,
    routes: readonly Route[],
    timeoutMs: number,
    forced: boolean,
  ): Promise<ShutdownReport> {
    const deadlines = this.#deadlines!
    const started = deadlines.startedAt
    this.#atStart = new Map(
      routes.map((r) => [r.id, { inflight: r.inflightCount(), pending: r.drainablePending() }]),
    )
    const ctx = this.shutdownContext(routes, deadlines, false)
    // Called synchronously: NOTICE overtakes user messages already queued (SPEC §4.1).
    let attempt: Promise<{ report: ShutdownReport } | { error: unknown }>
    try {
      attempt = strategy.shutdown(ctx, { timeoutMs, forced }).then(
        (report) => ({ report }),
        (error: unknown) => ({ error }),
      )
    } catch (error) {
      attempt = Promise.resolve({ error })
    }
    const settled = await deadlines.within(attempt)
    let report: ShutdownReport
    if (settled === undefined) {
      deadlines.overran.push('shutdown strategy')
      this.#host.logger.error(
        {},
        `Shutdown strategy did not finish within ${timeoutMs + deadlines.nowBudgetMs} ms; forcing what is left`,
      )
      report = failedReport(started, forced)
    } else if ('error' in settled.value) {
      const err = settled.value.error
      this.#host.logger.error({ err }, `Shutdown strategy failed: ${messageOf(err)}; forcing`)
      // Exactly what forceStop() does: NOTICE (listeners too, if not yet), abort, force-stop, NOW.
      deadlines.escalate()
      await this.notice(0, deadlines)
      const forcedRoutes: RouteShutdownReport[] = []
      await forceRoutes(ctx, ctx.routes, (r, at) => forcedRoutes.push(this.#routeReport(r, at - started)))
      report = { ...failedReport(started, true), routes: forcedRoutes }
    } else report = settled.value.report
    if (this.levelCell.value !== 'shutdown') await this.now(report.forced, deadlines)
    return this.#finish(report, deadlines)
  }

  #routeReport(handle: RouteHandle, stoppedAtMs: number): RouteShutdownReport {
    const s = this.#atStart.get(handle.id)
    return {
      id: handle.id,
      inflightAtStart: s?.inflight ?? 0,
      pendingAtStart: s?.pending ?? 0,
      aborted: handle.aborted(),
      forced: true,
      stoppedAtMs,
    }
  }

  /** NOTICE (SPEC §4.1 step 1, 2): level `pending`, event, listeners, then the pre-stop delay. */
  async notice(secondsUntilNow: number, deadlines: ShutdownDeadlines): Promise<void> {
    const h = this.#host
    if (this.levelCell.value === 'running') {
      // Admin before user work: level, event and listeners run before any further exchange is dispatched.
      this.levelCell.value = 'pending'
      h.metrics.shutdownLevel(LEVEL_GAUGE.pending)
      const s = deadlines.isEscalated ? 0 : secondsUntilNow
      h.logger.info({ secondsUntilNow: s }, `Shutdown notice: intake stops, ${s} seconds until shutdown now`)
      h.emit({ type: 'shutdown-notice', secondsUntilNow: s })
    }
    if (this.#noticeDone) return
    this.#noticeDone = true
    const phase = deadlines.phase
    const payload = {
      secondsUntilNow: deadlines.isEscalated ? 0 : secondsUntilNow,
      signal: phase === 'now' ? deadlines.nowSignal : deadlines.stopSignal,
    }
    await this.#callListeners(h.noticeListeners, payload, 'notice', phase, deadlines)
    if (h.preStopDelayMs > 0 && !deadlines.isEscalated) await sleep(h.preStopDelayMs, deadlines.stopSignal)
  }

  /** NOW (SPEC §4.1 step 6): level `shutdown`, event, listeners, what is left forced, components closed. */
  now(forced: boolean, deadlines: ShutdownDeadlines): Promise<void> {
    this.#now ??= this.#enterNow(forced, deadlines)
    return this.#now
  }

  async #enterNow(forced: boolean, deadlines: ShutdownDeadlines): Promise<void> {
    const h = this.#host
    if (!this.#noticeDone) await this.notice(0, deadlines)
    deadlines.startNow()
    this.levelCell.value = 'shutdown'
    h.metrics.shutdownLevel(LEVEL_GAUGE.shutdown)
    const milliseconds = h.nowBudgetMs
    h.logger.info({ milliseconds, forced }, `Shutdown now: ${milliseconds} ms for final cleanup`)
    h.emit({ type: 'shutdown-now', milliseconds, forced })
    const payload = { milliseconds, forced, signal: deadlines.nowSignal }
    await this.#callListeners(h.nowListeners, payload, 'now', 'now', deadlines)
    await this.#forceLeftRoutes(deadlines)
    let dropped = 0
    for (const g of h.workerGroups.values()) {
      g.close()
      dropped += g.dropQueued('shutdown now').dropped
    }
    if (dropped > 0) h.logger.warn({ dropped }, `Dropped ${dropped} queued async tasks at shutdown now`)
    const cancelled = h.scheduler.close()
    if (cancelled > 0) h.logger.warn({ cancelled }, `Cancelled ${cancelled} pending delays at shutdown now`)
    for (const [uri, p] of h.producers()) {
      if (p.stop === undefined) continue
      await deadlines.settle('now', `Producer ${describeEndpoint(uri)} (stop)`, (signal) =>
        p.stop?.({ signal }),
      )
    }
    for (const [scheme, c] of h.components()) {
      if (c.close === undefined) continue
      await deadlines.settle('now', `Component ${scheme} (close)`, (signal) => c.close?.({ forced, signal }))
    }
  }

  /**
   * Routes a strategy left running (a custom one, `shutdownNowOnTimeout: false`) are treated as in a forced stop
   * before the components close: aborted, handed back, counted (SPEC §4.1).
   */
  async #forceLeftRoutes(deadlines: ShutdownDeadlines): Promise<void> {
    const h = this.#host
    const left = h.routes().filter((r) => r.status !== 'stopped' && r.status !== 'starting')
    if (left.length === 0) return
    const ctx = this.shutdownContext(left, deadlines, true)
    await forceRoutes(ctx, ctx.routes, (r, at) => {
      this.#forcedAtNow.push(this.#routeReport(r, at - deadlines.startedAt))
      h.logger.warn({ route: r.id }, `Forced stopped ${r.id} at shutdown now (the strategy left it running)`)
    })
  }

  async #callListeners<T>(
    listeners: ReadonlySet<Listener<T>>,
    payload: T,
    name: string,
    phase: ShutdownPhase,
    deadlines: ShutdownDeadlines,
  ): Promise<void> {
    let i = 0
    await Promise.all(
      [...listeners].map(async (fn) => {
        const what = `Shutdown ${name} listener ${++i}`
        await deadlines.settle(phase, what, () => fn(payload))
      }),
    )
  }

  /** Whatever happened, nothing outlives the context: routes end stopped, exchanges left behind are aborted. */
  #finish(report: ShutdownReport, deadlines: ShutdownDeadlines): ShutdownReport {
    const h = this.#host
    const all = h.routes()
    const stillRunning = all.filter((r) => r.status !== 'stopped')
    if (stillRunning.length > 0) {
      // Out of time, yet each consumer is still told to stop — forced, past its deadline, not awaited — so what
      // it holds is handed back, or dropped and counted, instead of staying where nothing reads it.
      for (const r of stillRunning)
        void h.lifecycle
          .stop(r, true, deadlines.nowSignal)
          .catch((err: unknown) => h.logger.error({ err }, `Route ${r.id} failed to stop: ${messageOf(err)}`))
      abortInflight(h.inflight, stillRunning, 'left behind at shutdown')
      for (const r of stillRunning) h.lifecycle.abandon(r)
    }
    deadlines.close()
    // Route stops still running end with the context's shutdown: their routes are stopped now.
    for (const d of this.#routeStops) d.end()
    const reported = new Set(report.routes.map((r) => r.id))
    const extra = this.#forcedAtNow.filter((r) => !reported.has(r.id))
    const overran = deadlines.overran.length > 0
    const forced = report.forced || extra.length > 0 || stillRunning.length > 0
    const durationMs = report.durationMs > 0 ? report.durationMs : Date.now() - deadlines.startedAt
    return {
      graceful: report.graceful && !forced && !overran,
      forced,
      timedOut: report.timedOut,
      durationMs,
      routes: extra.length === 0 ? report.routes : [...report.routes, ...extra],
    }
  }
}

function failedReport(startedAt: number, forced: boolean): ShutdownReport {
  return { graceful: false, forced, timedOut: false, durationMs: Date.now() - startedAt, routes: [] }
}

/** Waits `ms`, or less when `signal` aborts; leaves no timer behind. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    onAbort = resolve
    signal.addEventListener('abort', onAbort, { once: true })
  })
  clearTimeout(timer)
  if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
}
