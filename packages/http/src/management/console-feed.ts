import type { ContextEvent, IntegrationContext } from '@dromedary/core'
import { ConsoleMetricsReader, type MetricsReading, type RouteMetricsReading } from './console-metrics.js'
import { RouteWindow, type RouteFigures } from './console-stats.js'
import type { LifecycleMessage, SnapshotMessage, WireRoute, WireRouteLoad } from './console-wire.js'
import { SseStream } from './sse-stream.js'

/** Timings and bounds of the console's event feed. */
export interface ConsoleFeedOptions {
  /** Milliseconds between snapshots. @default 1000 */
  readonly intervalMs?: number
  /** Oldest in-flight exchanges listed per snapshot. @default 100 */
  readonly inflightLimit?: number
  /** Window of the latency percentiles, in milliseconds. @default 60000 */
  readonly windowMs?: number
  /** Rates kept per route for the sparkline. @default 60 */
  readonly historyLength?: number
  /** Lifecycle events kept for clients that connect later. @default 5000 */
  readonly maxEvents?: number
  /** Bytes a client may leave unread before its stream is cut off. @default 1048576 */
  readonly maxBufferedBytes?: number
}

/** A client's reconnection delay (the SSE `retry:` field). */
const RETRY_MS = 2000
/** Progress events closer together than this are sent live but kept only once in the replay log. */
const PROGRESS_REPLAY_MS = 250
/** Events kept for late clients whatever the size of the replay log. */
const MILESTONES: ReadonlySet<string> = new Set([
  'context-starting',
  'context-started',
  'shutdown-notice',
  'shutdown-now',
  'context-stopped',
])
/** How long the last snapshot after `context-stopped` waits for the metrics registry. */
const FINAL_READ_MS = 250
const NO_FIGURES: RouteFigures = { rate: null, p50: null, p99: null, history: [] }

/** The last metrics reading of one route and the figures computed from it. */
interface RouteState {
  readonly reading: RouteMetricsReading
  readonly figures: RouteFigures
}

/**
 * The data behind `GET /events`: lifecycle events of `ctx.events$` (numbered and kept, so a page that connects
 * mid-shutdown still sees NOTICE) and a snapshot of routes, in-flight exchanges and worker groups every
 * `intervalMs` while a client listens. After `context-stopped` each stream gets a last snapshot and ends; `close()`
 * ends them all, so no open stream ever holds the management server's close.
 */
export class ConsoleFeed {
  readonly #ctx: IntegrationContext
  readonly #reader: ConsoleMetricsReader
  readonly #options: Required<ConsoleFeedOptions>
  readonly #streams = new Set<SseStream>()
  readonly #log: LifecycleMessage[] = []
  readonly #windows = new Map<string, RouteWindow>()
  readonly #subscription: { unsubscribe(): void }
  #figures = new Map<string, RouteState>()
  #workerGroups: MetricsReading['workerGroups'] = []
  #seq = 0
  #lastProgressLogged = 0
  #timer: NodeJS.Timeout | undefined
  #reading = false
  #readFailed = false
  #stopped = false
  #closed = false
  #finishing: Promise<void> | undefined

  constructor(ctx: IntegrationContext, options: ConsoleFeedOptions = {}) {
    this.#ctx = ctx
    this.#reader = new ConsoleMetricsReader(ctx.metrics, ctx.name)
    this.#options = {
      intervalMs: options.intervalMs ?? 1000,
      inflightLimit: options.inflightLimit ?? 100,
      windowMs: options.windowMs ?? 60_000,
      historyLength: options.historyLength ?? 60,
      maxEvents: options.maxEvents ?? 5000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    }
    this.#stopped = ctx.status === 'stopped'
    this.#subscription = ctx.events$.subscribe({ next: (e) => this.#onEvent(e) })
  }

  /** Open streams. */
  get clients(): number {
    return this.#streams.size
  }

  /**
   * Opens a stream for one client: the lifecycle events after `lastEventId` (all when absent), a snapshot, then
   * live updates. Undefined once the feed is closed.
   */
  open(lastEventId: unknown): SseStream | undefined {
    if (this.#closed) return undefined
    const stream = new SseStream({ retryMs: RETRY_MS, maxBufferedBytes: this.#options.maxBufferedBytes })
    const after = typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId) ? Number(lastEventId) : 0
    for (const m of this.#log) if (m.seq > after) stream.send(lifecycle(m))
    stream.send(snapshot(this.#snapshot()))
    if (this.#stopped) {
      stream.end()
      return stream
    }
    this.#streams.add(stream)
    stream.onClose(() => {
      this.#streams.delete(stream)
      if (this.#streams.size === 0) this.#stopTicking()
    })
    this.#startTicking()
    return stream
  }

  /**
   * Ends every stream (after the last snapshot, when the context has just stopped) and stops listening to the
   * context; later `open` calls get nothing. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#subscription.unsubscribe()
    }
    await this.#finishing
    this.#endAll()
  }

  #onEvent(event: ContextEvent): void {
    const message: LifecycleMessage = {
      seq: ++this.#seq,
      at: Date.now(),
      event,
      load: this.#ctx
        .routes()
        .map((r): WireRouteLoad => ({ id: r.id, inflight: r.inflight, pending: r.pending })),
    }
    this.#remember(message)
    for (const s of this.#streams) s.send(lifecycle(message))
    if (event.type === 'context-stopped') {
      this.#stopped = true
      this.#stopTicking()
      this.#finishing = this.#finish()
    }
  }

  /** The last snapshot, with the final outcome counts when the registry answers in time, then the end. */
  async #finish(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), FINAL_READ_MS)
      timer.unref()
    })
    const reading = await Promise.race([this.#reader.read().catch(() => undefined), late])
    clearTimeout(timer)
    if (reading !== undefined) this.#take(reading)
    const last = snapshot(this.#snapshot())
    for (const s of this.#streams) s.send(last)
    this.#endAll()
  }

  #remember(message: LifecycleMessage): void {
    if (message.event.type === 'shutdown-progress') {
      if (message.at - this.#lastProgressLogged < PROGRESS_REPLAY_MS) return
      this.#lastProgressLogged = message.at
    }
    const log = this.#log
    log.push(message)
    if (log.length <= this.#options.maxEvents) return
    // Full: forget the oldest event that a late client can do without, never the milestones of the story.
    const i = log.findIndex((m) => !MILESTONES.has(m.event.type))
    log.splice(i === -1 ? 0 : i, 1)
  }

  #endAll(): void {
    this.#stopTicking()
    const streams = [...this.#streams]
    this.#streams.clear()
    for (const s of streams) s.end()
  }

  #startTicking(): void {
    if (this.#timer !== undefined) return
    // A first listener starts fresh rates instead of one averaged over the time nobody looked.
    this.#windows.clear()
    this.#timer = setInterval(() => void this.#tick(), this.#options.intervalMs)
    this.#timer.unref()
    void this.#tick()
  }

  #stopTicking(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  async #tick(): Promise<void> {
    if (this.#reading || this.#streams.size === 0) return
    this.#reading = true
    let reading: MetricsReading | undefined
    try {
      reading = await this.#reader.read()
    } catch (err) {
      // Once at warn (a broken collect function of the user's), then quietly: it would repeat every second.
      const logger = this.#ctx.logger
      const message = 'Console: reading the metrics registry failed; figures left out'
      if (this.#readFailed) logger.debug({ err }, message)
      else logger.warn({ err }, message)
      this.#readFailed = true
    } finally {
      this.#reading = false
    }
    if (reading !== undefined) this.#take(reading)
    if (this.#streams.size === 0) return
    const message = snapshot(this.#snapshot())
    for (const s of this.#streams) s.send(message)
  }

  #take(reading: MetricsReading): void {
    const at = Date.now()
    // A route whose series are gone (a stopped context's are removed) keeps its last figures.
    const figures = new Map<string, RouteState>(this.#figures)
    for (const [id, r] of reading.routes) {
      let window = this.#windows.get(id)
      if (window === undefined)
        this.#windows.set(id, (window = new RouteWindow(this.#options.windowMs, this.#options.historyLength)))
      const finished = r.completed + r.failed + r.aborted
      figures.set(id, { reading: r, figures: window.add({ at, finished, histogram: r.histogram }) })
    }
    this.#figures = figures
    this.#workerGroups = reading.workerGroups
  }

  #snapshot(): SnapshotMessage {
    const ctx = this.#ctx
    const health = ctx.health()
    const routes = ctx.routes().map((r): WireRoute => {
      const f = this.#figures.get(r.id)
      const figures = f?.figures ?? NO_FIGURES
      return {
        id: r.id,
        from: r.from,
        startupOrder: r.startupOrder,
        status: r.status,
        inflight: r.inflight,
        pending: r.pending,
        completed: f?.reading.completed ?? null,
        failed: f?.reading.failed ?? null,
        aborted: f?.reading.aborted ?? null,
        ...figures,
      }
    })
    return {
      at: Date.now(),
      context: {
        name: ctx.name,
        status: ctx.status,
        shutdownLevel: ctx.shutdownLevel,
        live: health.live,
        ready: health.ready,
      },
      routes,
      inflight: {
        size: ctx.inflight.size(),
        oldest: ctx.inflight.browse({ limit: this.#options.inflightLimit }),
      },
      workerGroups: this.#workerGroups,
      windowSeconds: this.#options.windowMs / 1000,
    }
  }
}

function lifecycle(m: LifecycleMessage) {
  return { event: 'lifecycle', id: m.seq, data: JSON.stringify(m) }
}

function snapshot(s: SnapshotMessage) {
  return { event: 'snapshot', data: JSON.stringify(s) }
}
