import type { InflightExchange } from '../inflight/inflight-repository.js'
import { drainRoutes } from './drain.js'
import type { RouteShutdownReport, ShutdownReport } from './report.js'
import type { RouteHandle, ShutdownContext, ShutdownOptions, ShutdownStrategy } from './shutdown-strategy.js'

/** Options of `DefaultShutdownStrategy`; all are writable while running (Camel JMX). */
export interface DefaultShutdownStrategyOptions {
  /** Milliseconds to wait for in-flight and pending exchanges before forcing. @default 300000 */
  timeoutMs?: number
  /** On timeout, abort and force the remaining routes (else leave them running). @default true */
  shutdownNowOnTimeout?: boolean
  /** Stop routes in reverse startup order. @default false */
  shutdownRoutesInReverseOrder?: boolean
  /** Log the timeout warnings at debug instead of warn. @default false */
  suppressLoggingOnTimeout?: boolean
  /** On timeout, log one line per exchange still in flight. @default true */
  logInflightExchangesOnTimeout?: boolean
  /** Interval of the progress log line. @default 1000 */
  progressIntervalMs?: number
}

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
 * pending is zero (finishing the moment it is), stop deferred routes last, NOW. On timeout it forces.
 */
export class DefaultShutdownStrategy implements ShutdownStrategy {
  timeoutMs: number
  shutdownNowOnTimeout: boolean
  shutdownRoutesInReverseOrder: boolean
  suppressLoggingOnTimeout: boolean
  logInflightExchangesOnTimeout: boolean
  progressIntervalMs: number

  constructor(options: DefaultShutdownStrategyOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 300_000
    this.shutdownNowOnTimeout = options.shutdownNowOnTimeout ?? true
    this.shutdownRoutesInReverseOrder = options.shutdownRoutesInReverseOrder ?? false
    this.suppressLoggingOnTimeout = options.suppressLoggingOnTimeout ?? false
    this.logInflightExchangesOnTimeout = options.logInflightExchangesOnTimeout ?? true
    this.progressIntervalMs = options.progressIntervalMs ?? 1000
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
    const forcedIds = new Set<string>()
    let timedOut = false
    let forced = options.forced

    const record = (r: RouteHandle, wasForced: boolean) => {
      const s = atStart.get(r.id)!
      if (wasForced) forcedIds.add(r.id)
      stopped.push({
        id: r.id,
        inflightAtStart: s.inflight,
        pendingAtStart: s.pending,
        aborted: r.aborted(),
        forced: wasForced,
        stoppedAtMs: clock.now() - start,
      })
    }
    const forceAll = async (routes: readonly RouteHandle[]) => {
      // Intake stops everywhere first, so no consumer starts queued work after the abort below.
      for (const r of routes) await r.prepareShutdown({ forced: true })
      for (const r of routes) r.abortInflight('forced shutdown')
      for (const r of routes) {
        await r.stop({ forced: true })
        // A consumer without a forced prepareShutdown may have started work after the abort: abort that too.
        r.abortInflight('forced shutdown')
        record(r, true)
      }
    }

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
      for (const group of [first, deferred]) {
        if (group.length === 0) continue
        for (const r of group) await r.prepareShutdown({ forced: false })
        // Deferred routes keep consuming while the first group drains, so count them in too.
        const outcome = await drainRoutes(ctx, group === first ? remaining : group, {
          deadline,
          progressIntervalMs: this.progressIntervalMs,
        })
        if (outcome !== 'drained') {
          timedOut = outcome === 'timeout'
          if (options.abortAfterTimeout === true && outcome === 'timeout') {
            for (const r of remaining) await r.resumeIntake()
            logger.warn(
              {},
              `Timeout occurred stopping routes [${remaining.map((r) => r.id).join(', ')}]; aborting the stop and leaving them running`,
            )
            return report(start, clock.now(), false, false, true, stopped)
          }
          if (outcome === 'timeout') this.#logTimeout(ctx, remaining)
          else logger.warn({}, 'Forced shutdown requested while draining: forcing the remaining routes now')
          if (outcome === 'escalated' || this.shutdownNowOnTimeout) {
            forced = true
            await forceAll(remaining)
          }
          remaining = []
          break
        }
        for (const r of group) {
          await r.stop({ forced: false })
          record(r, false)
        }
        const done = new Set(group)
        remaining = remaining.filter((r) => !done.has(r))
      }
    }

    if (!scoped) await ctx.now(ctx.nowBudgetMs, forced)
    const end = clock.now()
    const seconds = ((end - start) / 1000).toFixed(3)
    const graceful = !forced && !timedOut
    if (graceful) logger.info({}, `Graceful shutdown of ${stopped.length} routes completed in ${seconds} s`)
    else
      logger.warn(
        {},
        `Shutdown of ${stopped.length} routes completed in ${seconds} s (forced ${forcedIds.size})`,
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
