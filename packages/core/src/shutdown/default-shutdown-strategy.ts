import type { InflightExchange } from '../inflight/inflight-repository.js'
import { validateDuration } from '../uri/duration.js'
import { drainRoutes } from './drain.js'
import { forceRoutes } from './force.js'
import type { RouteShutdownReport, ShutdownReport } from './report.js'
import type { RouteHandle, ShutdownContext, ShutdownOptions, ShutdownStrategy } from './shutdown-strategy.js'

/** Options of `DefaultShutdownStrategy`; all are writable while running (Camel JMX). */
export interface DefaultShutdownStrategyOptions {
  /** Milliseconds to wait for in-flight and pending exchanges before forcing (0…2147483647). @default 300000 */
  timeoutMs?: number
  /** On timeout, abort and force the remaining routes (else leave them until NOW). @default true */
  shutdownNowOnTimeout?: boolean
  /** Stop routes in reverse startup order. @default false */
  shutdownRoutesInReverseOrder?: boolean
  /** Log the timeout warnings at debug instead of warn. @default false */
  suppressLoggingOnTimeout?: boolean
  /** On timeout, log one line per exchange still in flight. @default true */
  logInflightExchangesOnTimeout?: boolean
  /** Interval of the progress log line (10…2147483647). @default 1000 */
  progressIntervalMs?: number
}

/** The smallest progress interval: a shorter one would flood the log. */
export const MIN_PROGRESS_INTERVAL_MS = 10

const FORCE_WARNING =
  'Timeout occurred during graceful shutdown. Forcing the routes to be shutdown now. Notice: some resources may still be running as graceful shutdown did not complete successfully.'
const IGNORE_WARNING =
  'Timeout occurred during graceful shutdown. Will ignore shutting down the remainder routes. Notice: some resources may still be running as graceful shutdown did not complete successfully.'

/** `Stopped orders (seda://orders)`: the endpoint without its options, Camel style. */
export function describeEndpoint(uri: string): string {
  const q = uri.indexOf('?')
  const base = q === -1 ? uri : uri.slice(0, q)
  const c = base.indexOf(':')
  if (c === -1 || base.slice(c + 1).startsWith('//')) return base
  // `http:/orders` → `http://orders`, not `http:///orders`.
  return `${base.slice(0, c)}://${base.slice(c + 1).replace(/^\/+/, '')}`
}

/** The formatted `InflightExchange: […]` line of SPEC §4.1. */
export function formatInflightExchange(e: InflightExchange): string {
  return `InflightExchange: [exchangeId=${e.exchangeId}, fromRouteId=${e.fromRouteId}, atRouteId=${e.atRouteId}, nodeId=${e.nodeId}, elapsed=${e.elapsedMs}, duration=${e.durationMs}]`
}

/**
 * Camel's DefaultShutdownStrategy, event-driven: NOTICE, stop intake in route order, drain until in-flight +
 * pending is zero (finishing the moment it is), stop deferred routes last, NOW. On timeout it forces. The
 * duration options are validated whenever they are set (DROMEDARY_ERR_INVALID_OPTION), also at run time.
 */
export class DefaultShutdownStrategy implements ShutdownStrategy {
  shutdownNowOnTimeout: boolean
  shutdownRoutesInReverseOrder: boolean
  suppressLoggingOnTimeout: boolean
  logInflightExchangesOnTimeout: boolean
  #timeoutMs = 300_000
  #progressIntervalMs = 1000

  constructor(options: DefaultShutdownStrategyOptions = {}) {
    if (options.timeoutMs !== undefined) this.timeoutMs = options.timeoutMs
    if (options.progressIntervalMs !== undefined) this.progressIntervalMs = options.progressIntervalMs
    this.shutdownNowOnTimeout = options.shutdownNowOnTimeout ?? true
    this.shutdownRoutesInReverseOrder = options.shutdownRoutesInReverseOrder ?? false
    this.suppressLoggingOnTimeout = options.suppressLoggingOnTimeout ?? false
    this.logInflightExchangesOnTimeout = options.logInflightExchangesOnTimeout ?? true
  }

  get timeoutMs(): number {
    return this.#timeoutMs
  }

  set timeoutMs(ms: number) {
    this.#timeoutMs = validateDuration('timeoutMs', ms)
  }

  get progressIntervalMs(): number {
    return this.#progressIntervalMs
  }

  set progressIntervalMs(ms: number) {
    this.#progressIntervalMs = validateDuration('progressIntervalMs', ms, MIN_PROGRESS_INTERVAL_MS)
  }

  async shutdown(ctx: ShutdownContext, options: ShutdownOptions): Promise<ShutdownReport> {
    const { clock, logger } = ctx
    const start = clock.now()
    const scoped = options.routeIds !== undefined
    const timeoutMs = options.timeoutMs
    const deadline = start + timeoutMs
    const order = this.shutdownRoutesInReverseOrder ? [...ctx.routes].reverse() : [...ctx.routes]
    const atStart = new Map(order.map((r) => [r.id, { inflight: r.inflight(), pending: r.pending() }]))
    const stopped: RouteShutdownReport[] = []
    let forcedCount = 0
    let leftRunning: readonly RouteHandle[] = []
    let timedOut = false
    let forced = options.forced

    const record = (r: RouteHandle, wasForced: boolean, at = clock.now()) => {
      const s = atStart.get(r.id)!
      if (wasForced) forcedCount++
      stopped.push({
        id: r.id,
        inflightAtStart: s.inflight,
        pendingAtStart: s.pending,
        aborted: r.aborted(),
        forced: wasForced,
        stoppedAtMs: at - start,
      })
    }
    const forceAll = (routes: readonly RouteHandle[]) =>
      forceRoutes(ctx, routes, (r, at) => record(r, true, at))

    if (!scoped) await ctx.notice(Math.ceil(timeoutMs / 1000))
    // forceStop() during NOTICE listeners or the pre-stop delay: nothing is drained any more.
    if (options.forced || ctx.isEscalated()) {
      forced = true
      logger.warn({}, `Starting forced shutdown of ${order.length} routes`)
      await forceAll(order)
    } else {
      logger.info(
        {},
        `Starting to graceful shutdown ${order.length} routes (timeout ${Math.ceil(timeoutMs / 1000)} seconds)`,
      )
      const deferred = order.filter((r) => r.shutdownRoute === 'defer' || r.deferShutdown())
      // Sets, not Array.includes: with 10,000 routes the quadratic scans dominated stop() (issue 8).
      const isDeferred = new Set(deferred)
      const first = order.filter((r) => !isDeferred.has(r))
      let remaining = [...first, ...deferred]
      const drain = async (routes: readonly RouteHandle[]) => {
        const outcome = await drainRoutes(ctx, routes, {
          deadline,
          progressIntervalMs: this.progressIntervalMs,
        })
        if (outcome === 'drained') return true
        timedOut = outcome === 'timeout'
        if (options.abortAfterTimeout === true && timedOut) {
          for (const r of remaining) await r.resumeIntake()
          logger.warn(
            {},
            `Timeout occurred stopping routes [${remaining.map((r) => r.id).join(', ')}]; aborting the stop and leaving them as they were`,
          )
          return false
        }
        if (timedOut) this.#logTimeout(ctx, remaining)
        else logger.warn({}, 'Forced shutdown requested while draining: forcing the remaining routes now')
        if (!timedOut || this.shutdownNowOnTimeout) {
          forced = true
          await forceAll(remaining)
        } else leftRunning = remaining
        remaining = []
        return false
      }
      // 1. The first group stops intake; deferred routes keep consuming while everything drains, so work still
      //    on its way can reach them (Camel: deferred consumers run until the total is 0 — also when every
      //    route is deferred). 2. The deferred routes stop intake and drain what they took meanwhile.
      for (const r of first) await r.prepareShutdown({ forced: false })
      let ok = await drain(remaining)
      if (ok) {
        for (const r of first) {
          await r.stop({ forced: false })
          record(r, false)
        }
        remaining = [...deferred]
        for (const r of deferred) await r.prepareShutdown({ forced: false })
        ok = await drain(deferred)
      }
      if (ok) {
        for (const r of deferred) {
          await r.stop({ forced: false })
          record(r, false)
        }
      }
      if (timedOut && options.abortAfterTimeout === true)
        return report(start, clock.now(), false, false, true, stopped)
    }

    if (!scoped) await ctx.now(ctx.nowBudgetMs, forced)
    const end = clock.now()
    const seconds = ((end - start) / 1000).toFixed(3)
    const graceful = !forced && !timedOut
    if (graceful) logger.info({}, `Graceful shutdown of ${stopped.length} routes completed in ${seconds} s`)
    else
      logger.warn(
        {},
        `Shutdown of ${stopped.length} routes completed in ${seconds} s (forced ${forcedCount})` +
          (leftRunning.length === 0
            ? ''
            : `; left running for the context to force at shutdown now: [${leftRunning.map((r) => r.id).join(', ')}]`),
      )
    const byId = new Map(order.map((h) => [h.id, h]))
    for (const s of stopped) {
      const r = byId.get(s.id)!
      logger.info(
        { route: s.id },
        `${s.forced ? 'Forced stopped' : 'Stopped'} ${s.id} (${describeEndpoint(r.from)})`,
      )
    }
    return report(start, end, graceful, forced, timedOut, stopped)
  }

  #logTimeout(ctx: ShutdownContext, remaining: readonly RouteHandle[]): void {
    const log = (msg: string) =>
      this.suppressLoggingOnTimeout ? ctx.logger.debug({}, msg) : ctx.logger.warn({}, msg)
    log(this.shutdownNowOnTimeout ? FORCE_WARNING : IGNORE_WARNING)
    if (!this.logInflightExchangesOnTimeout) return
    const ids = new Set(remaining.map((r) => r.id))
    for (const e of ctx.inflight.browse({ sortByLongestDuration: true })) {
      if (ids.has(e.fromRouteId) || ids.has(e.atRouteId)) log(formatInflightExchange(e))
    }
  }
}

function report(
  start: number,
  end: number,
  graceful: boolean,
  forced: boolean,
  timedOut: boolean,
  routes: RouteShutdownReport[],
): ShutdownReport {
  return { graceful, forced, timedOut, durationMs: end - start, routes }
}
