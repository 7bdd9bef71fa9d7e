/** One route's part of a shutdown, in stop order. */
export interface RouteShutdownReport {
  readonly id: string
  readonly inflightAtStart: number
  readonly pendingAtStart: number
  /** Exchanges aborted (signal fired) or dropped from queues by a forced stop. */
  readonly aborted: number
  readonly forced: boolean
  /** Milliseconds from the start of the shutdown until the route stopped. */
  readonly stoppedAtMs: number
}

/** What `stop()`, `forceStop()` and `whenStopped()` resolve with. */
export interface ShutdownReport {
  /** True when every route drained within the timeout without forcing. */
  readonly graceful: boolean
  readonly forced: boolean
  readonly timedOut: boolean
  readonly durationMs: number
  readonly routes: readonly RouteShutdownReport[]
}
