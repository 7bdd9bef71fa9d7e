import {
  describeEndpoint,
  drainRoutes,
  formatInflightExchange,
  type RouteHandle,
  type RouteShutdownReport,
  type ShutdownContext,
  type ShutdownOptions,
  type ShutdownReport,
  type ShutdownStrategy,
} from '@dromedary/core'

/** A group of routes stopped together, with its own drain budget. */
export interface ShutdownTier {
  /** Name used in the logs, e.g. `frontend`. */
  readonly name: string
  /** Which routes belong to this tier; omitted, the tier takes every route no earlier tier took. */
  readonly match?: (route: RouteHandle) => boolean
  /** Milliseconds this tier may drain before what is left of it is forced. */
  readonly timeoutMs: number
}

/** Options of `TieredShutdownStrategy`. */
export interface TieredShutdownStrategyOptions {
  /** Tiers in stop order; routes no tier matches join the last tier. */
  readonly tiers: readonly ShutdownTier[]
  /** Interval of the progress log line while a tier drains. @default 1000 */
  readonly progressIntervalMs?: number
}

/** Matches routes whose `from` URI uses one of these schemes, e.g. `byScheme('http')`. */
export function byScheme(...schemes: string[]): (route: RouteHandle) => boolean {
  const prefixes = schemes.map((s) => `${s.toLowerCase()}:`)
  return (route) => prefixes.some((p) => route.from.toLowerCase().startsWith(p))
}

/** Matches routes by id. */
export function byId(...ids: string[]): (route: RouteHandle) => boolean {
  const set = new Set(ids)
  return (route) => set.has(route.id)
}

interface TierPlan {
  readonly tier: ShutdownTier
  readonly routes: readonly RouteHandle[]
}

/**
 * A shutdown strategy written only against the public `ShutdownStrategy` API of `@dromedary/core`.
 *
 * Routes are split into tiers stopped one after the other, each with its own budget: typically the
 * HTTP-facing routes first with a short budget (clients are waiting, and a load balancer retries them
 * elsewhere), then the background routes with a long one (work already accepted should finish). A tier
 * that does not drain in time is forced on its own; the next tier still gets its full budget. Earlier
 * tiers should hold the upstream routes: a later tier keeps consuming while an earlier one drains, so work
 * a frontend route hands on still has somewhere to go.
 *
 * `options.timeoutMs` (from `ctx.stop({ timeoutMs })`) caps the whole shutdown.
 */
export class TieredShutdownStrategy implements ShutdownStrategy {
  readonly tiers: readonly ShutdownTier[]
  progressIntervalMs: number

  constructor(options: TieredShutdownStrategyOptions) {
    if (options.tiers.length === 0) throw new TypeError('TieredShutdownStrategy needs at least one tier')
    this.tiers = options.tiers
    this.progressIntervalMs = options.progressIntervalMs ?? 1000
  }

  async shutdown(ctx: ShutdownContext, options: ShutdownOptions): Promise<ShutdownReport> {
    const { clock, logger } = ctx
    const start = clock.now()
    const deadline = start + options.timeoutMs
    // stopRoute(id) hands us one route and expects no NOTICE/NOW: the context keeps running.
    const scoped = options.routeIds !== undefined
    const plan = this.#plan(ctx.routes)
    const atStart = new Map(ctx.routes.map((r) => [r.id, { inflight: r.inflight(), pending: r.pending() }]))
    const stopped: RouteShutdownReport[] = []
    let forced = options.forced
    let timedOut = false

    const record = (r: RouteHandle, wasForced: boolean): void => {
      const s = atStart.get(r.id) ?? { inflight: 0, pending: 0 }
      stopped.push({
        id: r.id,
        inflightAtStart: s.inflight,
        pendingAtStart: s.pending,
        aborted: r.aborted(),
        forced: wasForced,
        stoppedAtMs: clock.now() - start,
      })
    }
    const force = async (routes: readonly RouteHandle[]): Promise<void> => {
      for (const r of routes) r.abortInflight('forced shutdown')
      for (const r of routes) {
        await r.prepareShutdown({ forced: true })
        await r.stop({ forced: true })
        record(r, true)
      }
    }

    const totalMs = Math.min(
      options.timeoutMs,
      plan.reduce((n, p) => n + p.tier.timeoutMs, 0),
    )
    if (!scoped) await ctx.notice(Math.ceil(totalMs / 1000))

    if (options.forced) {
      logger.warn({}, `Starting forced shutdown of ${ctx.routes.length} routes`)
      await force(plan.flatMap((p) => p.routes))
    } else {
      logger.info(
        { tiers: plan.map((p) => ({ name: p.tier.name, routes: p.routes.map((r) => r.id) })) },
        `Starting tiered shutdown of ${ctx.routes.length} routes: ${plan.map((p) => `${p.tier.name} [${p.routes.map((r) => r.id).join(', ')}] ${seconds(p.tier.timeoutMs)} s`).join(', then ')}`,
      )
      for (const [i, { tier, routes }] of plan.entries()) {
        const tierDeadline = Math.min(deadline, clock.now() + tier.timeoutMs)
        logger.info(
          { tier: tier.name },
          `Tier ${tier.name}: stopping intake of ${routes.length} routes, draining for up to ${seconds(tierDeadline - clock.now())} s`,
        )
        for (const r of routes) await r.prepareShutdown({ forced: false })
        const outcome = await drainRoutes(ctx, routes, {
          deadline: tierDeadline,
          progressIntervalMs: this.progressIntervalMs,
          label: `Tier ${tier.name}`,
        })

        if (outcome === 'drained') {
          for (const r of routes) {
            await r.stop({ forced: false })
            record(r, false)
          }
          logger.info({ tier: tier.name }, `Tier ${tier.name}: drained`)
          continue
        }
        if (outcome === 'escalated') {
          logger.warn({}, 'Forced shutdown requested while draining: forcing every remaining tier now')
          forced = true
          await force(plan.slice(i).flatMap((p) => p.routes))
          break
        }
        // timeout
        timedOut = true
        if (options.abortAfterTimeout === true) {
          for (const r of routes) await r.resumeIntake()
          logger.warn(
            {},
            `Timeout stopping [${routes.map((r) => r.id).join(', ')}]; aborting the stop and leaving them running`,
          )
          return {
            graceful: false,
            forced: false,
            timedOut: true,
            durationMs: clock.now() - start,
            routes: stopped,
          }
        }
        this.#logTimeout(ctx, tier, routes)
        forced = true
        await force(routes)
      }
    }

    if (!scoped) await ctx.now(ctx.nowBudgetMs, forced)
    const end = clock.now()
    const secs = ((end - start) / 1000).toFixed(3)
    const graceful = !forced && !timedOut
    if (graceful) logger.info({}, `Graceful shutdown of ${stopped.length} routes completed in ${secs} s`)
    else {
      const n = stopped.filter((s) => s.forced).length
      logger.warn({}, `Shutdown of ${stopped.length} routes completed in ${secs} s (forced ${n})`)
    }
    for (const s of stopped) {
      const from = ctx.routes.find((r) => r.id === s.id)?.from ?? ''
      logger.info(
        { route: s.id },
        `${s.forced ? 'Forced stopped' : 'Stopped'} ${s.id} (${describeEndpoint(from)})`,
      )
    }
    return { graceful, forced, timedOut, durationMs: end - start, routes: stopped }
  }

  /** Assigns every route to the first tier that matches it (or to the last tier); drops empty tiers. */
  #plan(routes: readonly RouteHandle[]): TierPlan[] {
    const buckets = this.tiers.map((tier) => ({ tier, routes: [] as RouteHandle[] }))
    for (const r of routes) {
      const b = buckets.find((x) => x.tier.match === undefined || x.tier.match(r)) ?? buckets.at(-1)!
      b.routes.push(r)
    }
    return buckets.filter((b) => b.routes.length > 0)
  }

  #logTimeout(ctx: ShutdownContext, tier: ShutdownTier, routes: readonly RouteHandle[]): void {
    const ids = new Set(routes.map((r) => r.id))
    const left = ctx.inflight.browse({ sortByLongestDuration: true })
    const mine = left.filter((e) => ids.has(e.fromRouteId) || ids.has(e.atRouteId))
    const pending = routes.reduce((n, r) => n + r.pending(), 0)
    ctx.logger.warn(
      { tier: tier.name },
      `Tier ${tier.name} did not drain within ${seconds(tier.timeoutMs)} s: forcing [${[...ids].join(', ')}] with ${mine.length} inflight and ${pending} pending exchanges`,
    )
    for (const e of mine) ctx.logger.warn({ tier: tier.name }, formatInflightExchange(e))
  }
}

const seconds = (ms: number): string => String(Math.round(ms / 100) / 10)
