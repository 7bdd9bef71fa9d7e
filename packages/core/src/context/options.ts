import type { WorkerGroupOptions } from '../async/worker-group.js'
import type { MetricsOptions } from '../metrics/context-metrics.js'
import type { DefaultShutdownStrategyOptions } from '../shutdown/default-shutdown-strategy.js'
import type { ShutdownStrategy } from '../shutdown/shutdown-strategy.js'
import type { Component } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'

/** Options of `createContext` (SPEC §2). */
export interface ContextOptions {
  /** Context name, used in logs and as the `context` metric label. @default 'dromedary' */
  name?: string
  /** A pino-compatible logger, or `false` for silence. @default a pino logger at info to stdout */
  logger?: Logger | false
  /** @default new DefaultShutdownStrategy() */
  shutdownStrategy?: ShutdownStrategy
  /** Extra components by scheme. @default {} */
  components?: Readonly<Record<string, Component>>
  /** Async worker groups (SPEC §3.3). @default { default: { workers: 1 } } */
  workerGroups?: Readonly<Record<string, WorkerGroupOptions>>
  /** Metrics registry and prefix, or `false`. @default { prefix: 'dromedary_' } with a new Registry */
  metrics?: MetricsOptions | false
  /**
   * How the context shuts down: the pre-stop delay, the NOW budget, and the options of the default shutdown
   * strategy (`timeoutMs`, `shutdownNowOnTimeout`, …; ignored, with a warning, when `shutdownStrategy` is set).
   * @example createContext({ shutdown: { timeoutMs: 30_000, preStopDelayMs: 5_000 } })
   */
  shutdown?: ShutdownOptionsOfContext
}

/** The `shutdown` option of `createContext`. */
export interface ShutdownOptionsOfContext extends DefaultShutdownStrategyOptions {
  /** After NOTICE, keep serving this long with readiness down before intake stops. @default 0 */
  preStopDelayMs?: number
  /**
   * Milliseconds announced by NOW for final cleanup, and the deadline of that phase: forcing, NOW listeners,
   * producers and components must be done within it. @default 5000
   */
  nowBudgetMs?: number
}
