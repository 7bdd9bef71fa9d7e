import {
  createContext,
  drainRoutes,
  type ContextEvent,
  type DrainOutcome,
  type RouteShutdownReport,
  type ShutdownContext,
  type ShutdownOptions,
  type ShutdownReport,
  type ShutdownStrategy,
} from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { captureLogger, flush, track } from './support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

/** Records what it was given and does nothing else. */
class RecordingStrategy implements ShutdownStrategy {
  calls: Array<{ routes: string[]; options: ShutdownOptions }> = []
  async shutdown(ctx: ShutdownContext, options: ShutdownOptions): Promise<ShutdownReport> {
    this.calls.push({ routes: ctx.routes.map((r) => r.id), options })
    return { graceful: true, forced: false, timedOut: false, durationMs: 0, routes: [] }
  }
}

/**
 * A user-written strategy doing the whole job through the public ShutdownContext: last-started first, one
 * route at a time, each drained before the next one's intake stops, progress reported on events$.
 */
class OneAtATimeStrategy implements ShutdownStrategy {
  async shutdown(ctx: ShutdownContext, options: ShutdownOptions): Promise<ShutdownReport> {
    const start = ctx.clock.now()
    await ctx.notice(Math.ceil(options.timeoutMs / 1000))
    const routes: RouteShutdownReport[] = []
    for (const r of [...ctx.routes].reverse()) {
      const inflightAtStart = r.inflight()
      const pendingAtStart = r.pending()
      await r.prepareShutdown({ forced: false })
      if (r.inflight() + r.pending() > 0) {
        ctx.progress({
          inflightAndPending: r.inflight() + r.pending(),
          perRoute: { [r.id]: r.inflight() },
          secondsLeft: 0,
        })
        await r.whenDrained()
      }
      await r.stop({ forced: false })
      ctx.logger.info({}, `custom stopped ${r.id}`)
      routes.push({
        id: r.id,
        inflightAtStart,
        pendingAtStart,
        aborted: r.aborted(),
        forced: false,
        stoppedAtMs: ctx.clock.now() - start,
      })
    }
    await ctx.now(ctx.nowBudgetMs, false)
    return { graceful: true, forced: false, timedOut: false, durationMs: ctx.clock.now() - start, routes }
  }
}

function defineRoutes(ctx: ReturnType<typeof createContext>): void {
  void ctx.addRoutes((r) => {
    r.from('seda:late')
      .routeId('late')
      .process(() => new Promise<void>((resolve) => setTimeout(resolve, 300)))
      .to('mock:late')
    r.from('seda:first')
      .routeId('first')
      .startupOrder(5)
      .process(() => new Promise<void>((resolve) => setTimeout(resolve, 200)))
      .to('mock:first')
    r.from('direct:second').routeId('second').startupOrder(7).to('mock:second')
  })
}

describe('a custom ShutdownStrategy', () => {
  it('receives the routes in startup order and the resolved options', async () => {
    const strategy = new RecordingStrategy()
    const ctx = createContext({ logger: false, metrics: false, shutdownStrategy: strategy })
    defineRoutes(ctx)
    await ctx.start()
    await ctx.stop({ timeoutMs: 9000 })
    expect(strategy.calls).toEqual([
      { routes: ['first', 'second', 'late'], options: { timeoutMs: 9000, forced: false } },
    ])
  })

  it('is called with forced: true by forceStop()', async () => {
    const strategy = new RecordingStrategy()
    const ctx = createContext({ logger: false, metrics: false, shutdownStrategy: strategy })
    defineRoutes(ctx)
    await ctx.start()
    await ctx.forceStop()
    expect(strategy.calls.map((c) => c.options.forced)).toEqual([true])
  })

  it('can do the whole job through the public ShutdownContext', async () => {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false, shutdownStrategy: new OneAtATimeStrategy() })
    defineRoutes(ctx)
    const events: ContextEvent['type'][] = []
    ctx.events$.subscribe((e) => events.push(e.type))
    const levels: string[] = []
    ctx.onShutdownNotice(() => void levels.push(ctx.shutdownLevel))
    ctx.onShutdownNow(() => void levels.push(ctx.shutdownLevel))
    await ctx.start()
    await ctx.producer().send('seda:first', 1)
    await ctx.producer().send('seda:late', 2)
    await flush()
    const stopping = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(300)
    expect(stopping.settled).toBe(true)
    const report = await ctx.whenStopped()
    expect(report).toBe(stopping.value)
    expect(report.routes.map((r) => [r.id, r.inflightAtStart, r.stoppedAtMs])).toEqual([
      ['late', 1, 300],
      ['second', 0, 300],
      ['first', 0, 300],
    ])
    expect(logger.matching('custom stopped')).toEqual([
      'custom stopped late',
      'custom stopped second',
      'custom stopped first',
    ])
    expect(ctx.mock('first').receivedExchanges).toHaveLength(1)
    expect(ctx.mock('late').receivedExchanges).toHaveLength(1)
    expect(levels).toEqual(['pending', 'shutdown'])
    expect(events.slice(events.indexOf('shutdown-notice'))).toEqual([
      'shutdown-notice',
      'shutdown-progress',
      'route-stopped',
      'route-stopped',
      'route-stopped',
      'shutdown-now',
      'context-stopped',
    ])
    expect(ctx.status).toBe('stopped')
    expect(ctx.routes().every((r) => r.status === 'stopped')).toBe(true)
  })

  it('replaces the default while running, as Camel allows through JMX', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    defineRoutes(ctx)
    await ctx.start()
    const strategy = new RecordingStrategy()
    ctx.shutdownStrategy = strategy
    await ctx.stop()
    expect(strategy.calls).toHaveLength(1)
  })

  it('is backed by a forced stop when it throws, so the context still stops', async () => {
    const logger = captureLogger()
    const ctx = createContext({
      logger,
      metrics: false,
      shutdownStrategy: { shutdown: () => Promise.reject(new Error('oops')) },
    })
    defineRoutes(ctx)
    await ctx.start()
    const report = await ctx.stop()
    expect(report.forced).toBe(true)
    expect(ctx.status).toBe('stopped')
    expect(ctx.shutdownLevel).toBe('shutdown')
    expect(logger.messages('error')).toContain('Shutdown strategy failed: oops; forcing')
  })

  it('leaves no consumer running after the context stopped, even when it stopped none', async () => {
    const ctx = createContext({ logger: false, metrics: false, shutdownStrategy: new RecordingStrategy() })
    await ctx.addRoutes((r) => r.from('timer:t?period=100').routeId('t').to('mock:ticks'))
    await ctx.start()
    await vi.advanceTimersByTimeAsync(250)
    await ctx.stop()
    const ticks = ctx.mock('ticks').receivedExchanges.length
    await vi.advanceTimersByTimeAsync(1000)
    expect(ctx.mock('ticks').receivedExchanges.length).toBe(ticks)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('still reaches NOW and stops every route when it does nothing', async () => {
    const ctx = createContext({ logger: false, metrics: false, shutdownStrategy: new RecordingStrategy() })
    defineRoutes(ctx)
    const now = vi.fn()
    ctx.onShutdownNow(now)
    await ctx.start()
    await ctx.stop()
    expect(now).toHaveBeenCalledOnce()
    expect(ctx.routes().map((r) => r.status)).toEqual(['stopped', 'stopped', 'stopped'])
  })
})

describe('drainRoutes', () => {
  /** Stops intake of every route, then records what drainRoutes answers with the given deadline offset. */
  class DrainingStrategy implements ShutdownStrategy {
    outcomes: DrainOutcome[] = []
    constructor(readonly deadlineMs: number) {}
    async shutdown(ctx: ShutdownContext, options: ShutdownOptions): Promise<ShutdownReport> {
      const start = ctx.clock.now()
      await ctx.notice(1)
      for (const r of ctx.routes) await r.prepareShutdown({ forced: false })
      const deadline = start + this.deadlineMs
      this.outcomes.push(await drainRoutes(ctx, ctx.routes, { deadline, label: 'Phase one' }))
      // Asked again once the deadline has passed (or the routes drained), it answers at once.
      this.outcomes.push(await drainRoutes(ctx, ctx.routes, { deadline }))
      for (const r of ctx.routes) {
        if (this.outcomes[0] !== 'drained') r.abortInflight('forced shutdown')
        await r.stop({ forced: this.outcomes[0] !== 'drained' })
      }
      await ctx.now(0, options.forced)
      return {
        graceful: true,
        forced: false,
        timedOut: false,
        durationMs: ctx.clock.now() - start,
        routes: [],
      }
    }
  }

  it('resolves drained the moment the routes are idle, logging labelled progress each second', async () => {
    const logger = captureLogger()
    const strategy = new DrainingStrategy(10_000)
    const ctx = createContext({ logger, metrics: false, shutdownStrategy: strategy })
    defineRoutes(ctx)
    await ctx.start()
    await ctx.producer().send('seda:late', 1)
    await flush()
    const stopping = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(299)
    expect(stopping.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopping.settled).toBe(true)
    expect(strategy.outcomes).toEqual(['drained', 'drained'])
    expect(logger.matching('Phase one: waiting as there are still')).toEqual([
      'Phase one: waiting as there are still 1 inflight and pending exchanges to complete, timeout in 10 seconds. Inflights per route: [late = 1]',
    ])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('resolves timeout at the deadline, then at once when asked again after it', async () => {
    const strategy = new DrainingStrategy(100)
    const ctx = createContext({ logger: false, metrics: false, shutdownStrategy: strategy })
    defineRoutes(ctx)
    await ctx.start()
    await ctx.producer().send('seda:late', 1)
    await flush()
    const stopping = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(100)
    expect(stopping.settled).toBe(true)
    expect(strategy.outcomes).toEqual(['timeout', 'timeout'])
    // Only the step's own 300 ms timer is left (it ignores its abort signal); drainRoutes left none.
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(200)
    expect(vi.getTimerCount()).toBe(0)
  })
})
