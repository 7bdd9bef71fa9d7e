import type { DefaultInflightRepository } from '../inflight/inflight-repository.js'
import type { Route } from '../route/route.js'
import type { ShutdownDeadlines } from '../shutdown/deadline.js'
import type { RouteHandle } from '../shutdown/shutdown-strategy.js'
import { abortInflight } from './abort-inflight.js'
import type { RouteLifecycle } from './route-lifecycle.js'

/** What the handles of one shutdown (or one `stopRoute`) share. @internal */
export interface HandleScope {
  readonly lifecycle: RouteLifecycle
  readonly deadlines: ShutdownDeadlines
  readonly inflight: DefaultInflightRepository
}

/**
 * Wraps a route in the `RouteHandle` a shutdown strategy sees. Every consumer call goes through the route
 * lifecycle and is raced against the shutdown's deadlines, so no strategy — built-in or custom — can hang on a
 * consumer: graceful calls run in the current phase, forced ones in the NOW phase (SPEC §4.4).
 * @internal
 */
export function createRouteHandle(route: Route, scope: HandleScope): RouteHandle {
  const { lifecycle, deadlines } = scope
  const def = route.definition
  const phaseOf = (forced: boolean) => (forced ? 'now' : deadlines.phase)
  return {
    id: route.id,
    from: route.from,
    startupOrder: route.startupOrder,
    shutdownRoute: def.shutdownRoute,
    shutdownRunningTask: def.shutdownRunningTask,
    inflight: () => route.inflightCount(),
    pending: () => route.drainablePending(),
    deferShutdown: () =>
      def.shutdownRoute === 'defer' || (route.consumer.deferShutdown?.(def.shutdownRunningTask) ?? false),
    prepareShutdown: async ({ forced }) => {
      await deadlines.settle(phaseOf(forced), `Route ${route.id} (stopping intake)`, (signal) =>
        lifecycle.closeIntake(route, forced, signal),
      )
    },
    stop: async ({ forced }) => {
      const outcome = await deadlines.settle(
        phaseOf(forced),
        `Route ${route.id} (stopping its consumer)`,
        (signal) => lifecycle.stop(route, forced, signal),
      )
      // Left behind: its status must not claim it still consumes, nor keep a later stop waiting on it.
      if (outcome === 'overran' && forced) lifecycle.abandon(route)
    },
    abortInflight: (reason) => abortInflight(scope.inflight, [route], reason),
    whenDrained: () => route.whenDrained(),
    resumeIntake: async () => {
      // The stop phase is over (timed out): the NOW phase's deadline bounds taking work again.
      await lifecycle.reopen(route, deadlines.nowSignal)
    },
    aborted: () => route.aborted,
  }
}
