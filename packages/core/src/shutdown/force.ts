import type { RouteHandle, ShutdownContext } from './shutdown-strategy.js'

const REASON = 'forced shutdown'

/**
 * The forced path of SPEC §4.1, shared by the default strategy, `forceStop()` and the fallback for a strategy
 * that failed: intake stops everywhere first (so no consumer starts queued work after the abort), every
 * exchange in flight is aborted in one pass, the consumers are force-stopped (handing back what they hold),
 * and what a consumer still started after the abort is aborted too. Every call is bounded by the NOW deadline;
 * `stopped` is told each route's end, in `routes` order.
 */
export async function forceRoutes(
  ctx: ShutdownContext,
  routes: readonly RouteHandle[],
  stopped: (route: RouteHandle, atMs: number) => void,
): Promise<void> {
  await Promise.all(routes.map(async (r) => r.prepareShutdown({ forced: true })))
  ctx.abortInflight(routes, REASON)
  const at = await Promise.all(
    routes.map(async (r) => {
      await r.stop({ forced: true })
      return ctx.clock.now()
    }),
  )
  ctx.abortInflight(routes, REASON)
  routes.forEach((r, i) => stopped(r, at[i]!))
}
