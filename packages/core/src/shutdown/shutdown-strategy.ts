import type { InflightRepository } from '../inflight/inflight-repository.js'
import type { ShutdownRunningTask } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import type { ShutdownReport } from './report.js'

/** Options the context passes to `ShutdownStrategy.shutdown`. */
export interface ShutdownOptions {
  readonly timeoutMs: number
  /** True for `forceStop()`: NOTICE and NOW back to back, no drain. */
  readonly forced: boolean
  /** Set by `stopRoute`: only these routes stop, and NOTICE/NOW are not sent. */
  readonly routeIds?: readonly string[]
  /** `stopRoute(id, { abortAfterTimeout: true })`: on timeout leave the route running and report `timedOut`. */
  readonly abortAfterTimeout?: boolean
}

/** One route as a strategy sees it (SPEC §4.2), in startup order. */
export interface RouteHandle {
  readonly id: string
  readonly from: string
  readonly startupOrder: number
  readonly shutdownRoute: 'default' | 'defer'
  readonly shutdownRunningTask: ShutdownRunningTask
  inflight(): number
  pending(): number
  /** True when the route or its consumer asks to stop last (`shutdownRoute('defer')`, seda). */
  deferShutdown(): boolean
  /** Stops intake; started exchanges go on. */
  prepareShutdown(options: { forced: boolean }): Promise<void>
  /** Stops the consumer; forced hands unfinished work back and drops what cannot be. */
  stop(options: { forced: boolean }): Promise<void>
  /** Aborts the signal of every exchange in flight in the route; returns how many. */
  abortInflight(reason: string): number
  /** Resolves the moment `inflight() + pending()` is zero (event-driven). */
  whenDrained(): Promise<void>
  /**
   * Undoes `prepareShutdown` (used when `abortAfterTimeout` leaves a route as it was); does nothing once the
   * context's own shutdown began.
   */
  resumeIntake(): Promise<void>
  /** Exchanges aborted or dropped so far by forced stops. */
  aborted(): number
}

/** Progress of a drain, as logged and emitted on `events$`. */
export interface ShutdownProgress {
  readonly inflightAndPending: number
  readonly perRoute: Readonly<Record<string, number>>
  readonly secondsLeft: number
}

/** Everything the context hands a strategy; a custom strategy can do all the default one does. */
export interface ShutdownContext {
  /** The routes to stop, in startup order. */
  readonly routes: readonly RouteHandle[]
  readonly inflight: InflightRepository
  readonly logger: Logger
  readonly clock: { now(): number }
  /** The `shutdown.nowBudgetMs` to announce with NOW. */
  readonly nowBudgetMs: number
  /** Step 1 (+2): level `pending`, NOTICE event and listeners, then the pre-stop delay. */
  notice(secondsUntilNow: number): Promise<void>
  /** Step 6: level `shutdown`, NOW event and listeners, components closed. */
  now(milliseconds: number, forced: boolean): Promise<void>
  /** Emits a `shutdown-progress` event. */
  progress(progress: ShutdownProgress): void
  /** Resolves when `forceStop()` (or a second signal) escalates this shutdown. */
  readonly escalated: Promise<void>
  isEscalated(): boolean
  /**
   * Aborted when the graceful part of this shutdown is out of time (`timeoutMs`) or it is escalated: a
   * strategy's own waits should end then (SPEC §4.4). The handles' calls are already raced against it.
   */
  readonly signal: AbortSignal
  /**
   * Aborts every exchange in flight in `routes` in one pass (O(in-flight), not one scan per route), counting
   * each on its route; returns how many.
   */
  abortInflight(routes: readonly RouteHandle[], reason: string): number
}

/** Stops routes gracefully; pluggable through `shutdownStrategy` (Camel `ShutdownStrategy`). */
export interface ShutdownStrategy {
  shutdown(ctx: ShutdownContext, options: ShutdownOptions): Promise<ShutdownReport>
}
