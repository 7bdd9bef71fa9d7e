import type { Route } from '../route/route.js'
import type { RouteHandle } from '../shutdown/shutdown-strategy.js'

/** What a route handle needs from the context. @internal */
export interface RouteControl {
  stopConsumer(route: Route, forced: boolean): Promise<void>
  prepareConsumer(route: Route, forced: boolean): Promise<void>
  resumeIntake(route: Route): Promise<void>
}

/** Wraps a route in the `RouteHandle` a shutdown strategy sees. @internal */
export function createRouteHandle(route: Route, control: RouteControl): RouteHandle {
  const def = route.definition
  return {
    id: route.id,
    from: route.from,
    startupOrder: route.startupOrder,
    shutdownRoute: def.shutdownRoute,
    shutdownRunningTask: def.shutdownRunningTask,
    inflight: () => route.inflightCount(),
    pending: () => route.pendingCount(),
    deferShutdown: () =>
      def.shutdownRoute === 'defer' || (route.consumer.deferShutdown?.(def.shutdownRunningTask) ?? false),
    prepareShutdown: ({ forced }) => control.prepareConsumer(route, forced),
    stop: ({ forced }) => control.stopConsumer(route, forced),
    abortInflight: (reason) => {
      const n = route.abortInflight(reason)
      route.aborted += n
      return n
    },
    whenDrained: () => route.whenDrained(),
    resumeIntake: () => control.resumeIntake(route),
    aborted: () => route.aborted,
  }
}
