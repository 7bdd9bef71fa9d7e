import type { RouteHandle, ShutdownContext } from './shutdown-strategy.js'

/** How `drainRoutes` ended: every route drained, the deadline passed, or a forced stop escalated the shutdown. */
export type DrainOutcome = 'drained' | 'timeout' | 'escalated'

/** Options of `drainRoutes`. */
export interface DrainOptions {
  /** The `ctx.clock.now()` time by which the routes must be drained. */
  readonly deadline: number
  /** Interval of the progress line. @default 1000 */
  readonly progressIntervalMs?: number
  /**
   * Names this drain in the progress line and its fields (e.g. a tier of a custom strategy):
   * `<label>: waiting as there are still …` instead of SPEC §4.1's `Waiting as there are still …`.
   */
  readonly label?: string
}

/**
 * The drain step of a shutdown strategy: waits, event-driven, until `routes` have no in-flight or pending
 * exchange at the same moment, the deadline passes, or the shutdown is escalated — whichever comes first.
 * Logs SPEC §4.1's progress line at once and every `progressIntervalMs` while work remains, and emits
 * `shutdown-progress` events. Leaves no timer behind. Intake must already be stopped (`prepareShutdown`).
 */
export async function drainRoutes(
  ctx: ShutdownContext,
  routes: readonly RouteHandle[],
  options: DrainOptions,
): Promise<DrainOutcome> {
  if (ctx.isEscalated()) return 'escalated'
  if (idle(routes)) return 'drained'
  const { deadline, label } = options
  if (deadline <= ctx.clock.now()) return 'timeout'
  let progressTimer: NodeJS.Timeout | undefined
  let timeoutTimer: NodeJS.Timeout | undefined
  const tick = () => {
    const perRoute: Record<string, number> = {}
    let total = 0
    for (const r of routes) {
      const n = r.inflight() + r.pending()
      if (n > 0) perRoute[r.id] = n
      total += n
    }
    if (total === 0) return
    const secondsLeft = Math.max(0, Math.round((deadline - ctx.clock.now()) / 1000))
    const list = Object.entries(perRoute)
      .map(([id, n]) => `${id} = ${n}`)
      .join(', ')
    const still = `there are still ${total} inflight and pending exchanges to complete, timeout in ${secondsLeft} seconds. Inflights per route: [${list}]`
    const fields = { inflightAndPending: total, perRoute, secondsLeft }
    if (label === undefined) ctx.logger.info(fields, `Waiting as ${still}`)
    else ctx.logger.info({ drain: label, ...fields }, `${label}: waiting as ${still}`)
    ctx.progress(fields)
  }
  try {
    tick()
    progressTimer = setInterval(tick, options.progressIntervalMs ?? 1000)
    progressTimer.unref()
    return await Promise.race<DrainOutcome>([
      allDrained(routes).then(() => 'drained' as const),
      new Promise<DrainOutcome>((resolve) => {
        timeoutTimer = setTimeout(resolve, Math.max(0, deadline - ctx.clock.now()), 'timeout')
      }),
      ctx.escalated.then(() => 'escalated' as const),
    ])
  } finally {
    clearInterval(progressTimer)
    clearTimeout(timeoutTimer)
  }
}

function idle(routes: readonly RouteHandle[]): boolean {
  return routes.every((r) => r.inflight() + r.pending() === 0)
}

/**
 * Resolves when every route is drained at the same moment. Each route's own zero is not enough: a seda route
 * that drained early can be refilled by a route still finishing, and then needs the routes it calls again.
 */
async function allDrained(routes: readonly RouteHandle[]): Promise<void> {
  while (!idle(routes)) await Promise.all(routes.map((r) => r.whenDrained()))
}
