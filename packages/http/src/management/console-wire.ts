/**
 * The messages of `GET /events` (Server-Sent Events), shared by the management server that writes them and the
 * console page that reads them. Types only: this file is compiled into both programs, so it imports nothing but
 * types (no Node, no DOM).
 */
import type { InflightExchange, ShutdownReport } from '@dromedary/core'

/** The report of `context-stopped`. */
export type WireShutdownReport = ShutdownReport

/** A lifecycle event of `ctx.events$` (core `ContextEvent`), as JSON. */
export interface WireContextEvent {
  readonly type: string
  readonly [field: string]: unknown
}

/** In-flight and pending work of one route at one moment. */
export interface WireRouteLoad {
  readonly id: string
  readonly inflight: number
  readonly pending: number
}

/** `event: lifecycle` — one lifecycle event, numbered (`id:`) so a reconnecting client gets only what it missed. */
export interface LifecycleMessage {
  /** Sequence number, from 1, also sent as the SSE `id`. */
  readonly seq: number
  /** When it was emitted (ms since the epoch, server clock). */
  readonly at: number
  readonly event: WireContextEvent
  /** The load of every route at that moment, in startup order (for the shutdown curve). */
  readonly load: readonly WireRouteLoad[]
}

/** One route in a snapshot: `ctx.routes()` plus figures read from the metrics registry. */
export interface WireRoute {
  readonly id: string
  readonly from: string
  readonly startupOrder: number
  /** `started`, `suspended`, `stopped`, or any other state a context reports (`starting`, `stopping`, …). */
  readonly status: string
  readonly inflight: number
  readonly pending: number
  /** Exchanges finished since start by outcome, or null without metrics. */
  readonly completed: number | null
  readonly failed: number | null
  readonly aborted: number | null
  /** Exchanges finished per second over the last sampling interval, or null without metrics. */
  readonly rate: number | null
  /** Median and 99th percentile of exchange durations (seconds) over the recent window, or null without data. */
  readonly p50: number | null
  readonly p99: number | null
  /** The last rates, oldest first (one per second), for a sparkline. */
  readonly history: readonly number[]
}

/** One in-flight exchange, as `ctx.inflight.browse()` lists it. */
export type WireInflightExchange = InflightExchange

/** One async worker group, read from the metrics registry. */
export interface WireWorkerGroup {
  readonly name: string
  readonly busy: number
  readonly queued: number
}

/** `event: snapshot` — the state of the context, sent on connect and every second. */
export interface SnapshotMessage {
  readonly at: number
  readonly context: {
    readonly name: string
    readonly status: string
    readonly shutdownLevel: string
    readonly live: boolean
    readonly ready: boolean
  }
  readonly routes: readonly WireRoute[]
  /** The in-flight count and the oldest exchanges (oldest first, at most `inflightLimit`). */
  readonly inflight: { readonly size: number; readonly oldest: readonly WireInflightExchange[] }
  readonly workerGroups: readonly WireWorkerGroup[]
  /** Seconds of the window the percentiles are computed over. */
  readonly windowSeconds: number
}
