import type { ShutdownReport } from '../shutdown/report.js'

/** Lifecycle events on `ctx.events$` (SPEC §2.2). Exchange-level events are not here (hot path). */
export type ContextEvent =
  | { readonly type: 'context-starting' }
  | { readonly type: 'route-started'; readonly routeId: string }
  | { readonly type: 'context-started' }
  | { readonly type: 'shutdown-notice'; readonly secondsUntilNow: number }
  | {
      readonly type: 'shutdown-progress'
      readonly inflightAndPending: number
      readonly perRoute: Readonly<Record<string, number>>
      readonly secondsLeft: number
    }
  | { readonly type: 'shutdown-now'; readonly milliseconds: number; readonly forced: boolean }
  | { readonly type: 'route-stopped'; readonly routeId: string; readonly forced: boolean }
  | { readonly type: 'context-stopped'; readonly report: ShutdownReport }
