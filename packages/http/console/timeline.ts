import type {
  LifecycleMessage,
  SnapshotMessage,
  WireRouteLoad,
  WireShutdownReport,
} from '../src/management/console-wire.js'

/** In-flight + pending work at one moment: in total and per route. */
export interface TimelineSample {
  readonly at: number
  readonly total: number
  readonly perRoute: ReadonlyMap<string, number>
}

/** A point of the timeline's log. */
export interface TimelineEntry {
  readonly at: number
  readonly kind: 'notice' | 'route-stopped' | 'now' | 'stopped'
  readonly text: string
  readonly routeId?: string
  readonly forced?: boolean
}

/**
 * The shutdown as the console draws it, built from lifecycle events (NOTICE, progress, route stops, NOW,
 * stopped) and from snapshots while draining. Routes are kept in first-seen order for stable colours.
 */
export class ShutdownTimeline {
  noticeAt: number | undefined
  secondsUntilNow: number | undefined
  secondsLeft: number | undefined
  nowAt: number | undefined
  stoppedAt: number | undefined
  report: WireShutdownReport | undefined
  readonly entries: TimelineEntry[] = []
  readonly samples: TimelineSample[] = []
  readonly routes: string[] = []

  /** True from NOTICE (or a stop without one) on. */
  get started(): boolean {
    return this.noticeAt !== undefined || this.stoppedAt !== undefined
  }

  /** When the timeline starts: NOTICE, else the first thing seen. */
  get origin(): number {
    return this.noticeAt ?? this.entries[0]?.at ?? this.samples[0]?.at ?? 0
  }

  /** Takes a lifecycle event; returns true when the timeline changed. */
  lifecycle(m: LifecycleMessage): boolean {
    const e = m.event
    switch (e.type) {
      case 'shutdown-notice':
        if (this.noticeAt !== undefined) return false
        this.noticeAt = m.at
        this.secondsUntilNow = num(e.secondsUntilNow)
        return this.#mark(m, 'notice', `NOTICE: intake stops, ${num(e.secondsUntilNow)} s until NOW`)
      case 'shutdown-progress':
        if (this.noticeAt === undefined) return false
        this.secondsLeft = num(e.secondsLeft)
        // The curve takes the load of every route (`ctx.routes()`, as snapshots do), not the event's
        // `perRoute`, which covers only the routes of the drain phase under way.
        this.#sampleLoad(m.at, m.load)
        return true
      case 'route-stopped': {
        // A route stopped by hand while running is not part of a shutdown.
        if (this.noticeAt === undefined) return false
        const routeId = String(e.routeId)
        const forced = e.forced === true
        const text = `Route ${routeId} stopped${forced ? ' (forced)' : ''}`
        return this.#mark(m, 'route-stopped', text, { routeId, forced })
      }
      case 'shutdown-now': {
        if (this.nowAt !== undefined) return false
        this.nowAt = m.at
        const forced = e.forced === true
        const text = `NOW${forced ? ' (forced)' : ''}: ${num(e.milliseconds)} ms for final cleanup`
        return this.#mark(m, 'now', text, { forced })
      }
      case 'context-stopped': {
        if (this.stoppedAt !== undefined) return false
        this.stoppedAt = m.at
        const report = (this.report = e.report as WireShutdownReport)
        return this.#mark(m, 'stopped', `Stopped: ${describeReport(report)}`, { forced: report.forced })
      }
      default:
        return false
    }
  }

  /** Takes a snapshot; while draining it adds a point to the curve. Returns true when the timeline changed. */
  snapshot(s: SnapshotMessage): boolean {
    if (this.noticeAt === undefined || this.stoppedAt !== undefined || s.at < this.noticeAt) return false
    this.#sampleLoad(s.at, s.routes)
    return true
  }

  /** Work still held per route, from the last sample. */
  get last(): TimelineSample | undefined {
    return this.samples[this.samples.length - 1]
  }

  /** Logs a point of the timeline and samples the load that came with it. */
  #mark(
    m: LifecycleMessage,
    kind: TimelineEntry['kind'],
    text: string,
    extra: { routeId?: string; forced?: boolean } = {},
  ): true {
    this.entries.push({ at: m.at, kind, text, ...extra })
    this.#sampleLoad(m.at, m.load)
    return true
  }

  #sampleLoad(at: number, load: readonly WireRouteLoad[]): void {
    this.#sample(at, new Map(load.map((r) => [r.id, r.inflight + r.pending])))
  }

  #sample(at: number, perRoute: Map<string, number>): void {
    for (const id of perRoute.keys()) if (!this.routes.includes(id)) this.routes.push(id)
    let total = 0
    for (const n of perRoute.values()) total += n
    // Keep the samples in time order (a snapshot and an event may cross).
    let i = this.samples.length
    while (i > 0 && this.samples[i - 1]!.at > at) i--
    this.samples.splice(i, 0, { at, total, perRoute })
  }
}

/** `graceful in 1.204 s` / `forced, timed out, in 30.0 s; 3 exchanges aborted (orders 2, api 1)`. */
export function describeReport(r: WireShutdownReport): string {
  const how = r.graceful ? 'graceful' : r.forced ? 'forced' : 'not graceful'
  const parts = [how]
  if (r.timedOut) parts.push('timed out')
  const aborted = r.routes.filter((x) => x.aborted > 0)
  const total = aborted.reduce((n, x) => n + x.aborted, 0)
  const abortedText =
    total === 0
      ? 'no exchange aborted'
      : `${total} exchange${total === 1 ? '' : 's'} aborted (${aborted.map((x) => `${x.id} ${x.aborted}`).join(', ')})`
  return `${parts.join(', ')} in ${(r.durationMs / 1000).toFixed(3)} s; ${abortedText}`
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}
