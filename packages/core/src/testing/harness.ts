import { createContext, type IntegrationContext } from '../context/context.js'
import type { Exchange } from '../exchange/exchange.js'
import type { RouteInfo } from '../route/route.js'
import type { ShutdownReport, RouteShutdownReport } from '../shutdown/report.js'
import type { ShutdownRunningTask } from '../spi/component.js'
import { idFromBody } from './ledger.js'
import { ObservingStrategy, type ShutdownCall } from './observer.js'
import { Probe } from './probe.js'
import type { ConformanceTimings, ConsumerFixture } from './subject.js'
import { until } from './waits.js'

/** The id of the route under test in every context the kit creates. */
export const CONFORMANCE_ROUTE_ID = 'conformance'

/** `ConformanceTimings` with the defaults filled in. @internal */
export type Timings = Required<ConformanceTimings>

/** Fills in the defaults of `ConformanceTimings`. @internal */
export function timingsOf(t: ConformanceTimings = {}): Timings {
  return {
    waitMs: t.waitMs ?? 5000,
    quietMs: t.quietMs ?? 100,
    stopTimeoutMs: t.stopTimeoutMs ?? 5000,
    shortTimeoutMs: t.shortTimeoutMs ?? 300,
    nowBudgetMs: t.nowBudgetMs ?? 2000,
  }
}

/**
 * One context consuming the fixture's URI through the probe, watched by the observing strategy. Everything a
 * check does to the context goes through here, so failures name the route's state.
 * @internal
 */
export class ConsumerHarness {
  readonly ctx: IntegrationContext
  readonly probe: Probe
  readonly strategy: ObservingStrategy
  readonly #fixture: ConsumerFixture
  readonly #t: Timings
  /** Ids this harness fed (a source without `feed`: the ids of the exchanges it started). */
  readonly #fed: string[] = []

  private constructor(fixture: ConsumerFixture, t: Timings) {
    this.#fixture = fixture
    this.#t = t
    const idOf =
      fixture.idOf?.bind(fixture) ?? (fixture.feed === undefined ? (ex: Exchange) => ex.id : idFromBody)
    this.probe = new Probe(idOf)
    this.strategy = new ObservingStrategy({ timeoutMs: t.stopTimeoutMs, progressIntervalMs: 60_000 })
    this.ctx = createContext({
      name: 'conformance',
      logger: fixture.logger ?? false,
      metrics: false,
      shutdownStrategy: this.strategy,
      shutdown: { nowBudgetMs: t.nowBudgetMs },
      components: fixture.components?.() ?? {},
    })
  }

  /** Creates and starts a context whose route consumes the fixture's URI. */
  static async start(
    fixture: ConsumerFixture,
    t: Timings,
    task: ShutdownRunningTask = 'completeCurrentTaskOnly',
  ): Promise<ConsumerHarness> {
    const h = new ConsumerHarness(fixture, t)
    await h.ctx.addRoutes((r) => {
      r.from(fixture.uri)
        .routeId(CONFORMANCE_ROUTE_ID)
        .shutdownRunningTask(task)
        .process(h.probe.step)
        .process(h.probe.done)
    })
    await h.ctx.start()
    return h
  }

  /** True when the kit feeds the source (false for a source that makes its own messages). */
  get feeds(): boolean {
    return this.#fixture.feed !== undefined
  }

  /** What was fed so far: the fed ids, or for a self-feeding source the ids of the exchanges started. */
  get fed(): readonly string[] {
    return this.feeds ? this.#fed : this.probe.started
  }

  async feed(ids: readonly string[]): Promise<void> {
    if (this.#fixture.feed === undefined) return
    this.#fed.push(...ids)
    await this.#fixture.feed(this.ctx, ids)
  }

  info(): RouteInfo {
    return this.ctx.routes().find((r) => r.id === CONFORMANCE_ROUTE_ID)!
  }

  async atSource(): Promise<number> {
    return (await this.#fixture.atSource?.()) ?? 0
  }

  /**
   * Holds the probe and feeds `ids`, then waits until the consumer runs as many as it can at once and every fed
   * message is accounted for: in flight, pending, or still at the source. A self-feeding source: waits for its
   * first exchange.
   */
  async feedAndHold(ids: readonly string[], concurrency: number): Promise<void> {
    this.probe.hold()
    await this.feed(ids)
    const target = this.feeds ? Math.min(concurrency, ids.length) : 1
    await this.probe.until(
      () => this.probe.held.length >= target,
      this.#t.waitMs,
      `the consumer to run ${target} exchanges at once`,
    )
    if (!this.feeds) return
    const total = this.#fed.length - this.probe.completed.length
    let last = ''
    await until(
      async () => {
        const i = this.info()
        const at = await this.atSource()
        last = `in flight ${i.inflight} + pending ${i.pending} + at the source ${at}`
        return i.inflight + i.pending + at === total
      },
      this.#t.waitMs,
      () => `every fed message to be in flight, pending or at the source: ${last} ≠ ${total} unfinished`,
    )
  }

  /**
   * Feeds `ids` and waits until each completed; a self-feeding source: until one more exchange completed than
   * before.
   */
  async consume(ids: readonly string[], what: string): Promise<void> {
    const before = this.probe.completed.length
    await this.feed(ids)
    const done = this.probe.completed
    await this.probe.until(
      () => (this.feeds ? ids.every((id) => done.includes(id)) : done.length > before),
      this.#t.waitMs,
      what,
    )
  }

  /** Starts a graceful stop and resolves once the route's intake closed (or it asked to defer). */
  async stopUntilIntakeClosed(timeoutMs = this.#t.stopTimeoutMs): Promise<{
    readonly stopping: Promise<ShutdownReport>
    readonly first: ShutdownCall
  }> {
    const stopping = this.ctx.stop({ timeoutMs })
    const first = await this.strategy.when(
      (c) => c.routeId === CONFORMANCE_ROUTE_ID && (c.call === 'prepared' || c.call === 'deferred'),
      this.#t.waitMs,
      'the shutdown to close the intake of the route under test',
    )
    return { stopping, first }
  }

  /** Force-stops the context unless it already stopped (cleanup after a check, also a failed one). */
  async dispose(): Promise<void> {
    this.probe.releaseAll()
    if (this.ctx.status !== 'stopped') await this.ctx.forceStop()
  }
}

/** The route under test's line in a shutdown report. @internal */
export function routeOf(report: ShutdownReport): RouteShutdownReport {
  const r = report.routes.find((x) => x.id === CONFORMANCE_ROUTE_ID)
  if (r === undefined) throw new Error(`The shutdown report has no line for route ${CONFORMANCE_ROUTE_ID}`)
  return r
}
