import { createContext, type ContextEvent, type IntegrationContext } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flush, track } from './support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

function twoRoutes(): IntegrationContext {
  const ctx = createContext({ logger: false, metrics: false })
  void ctx.addRoutes((r) => {
    r.from('seda:work?concurrentConsumers=2')
      .routeId('work')
      .startupOrder(2)
      .process(() => new Promise<void>((resolve) => setTimeout(resolve, 1400)))
    r.from('direct:front').routeId('front').startupOrder(1).to('seda:work')
  })
  return ctx
}

describe('stop() and whenStopped()', () => {
  it('returns the same promise from every stop() call', async () => {
    const ctx = twoRoutes()
    await ctx.start()
    const first = ctx.stop()
    expect(ctx.stop()).toBe(first)
    expect(ctx.stop({ timeoutMs: 1 })).toBe(first)
    await first
    expect(ctx.stop()).toBe(first)
  })

  it('resolves whenStopped() with the very report stop() resolved with', async () => {
    const ctx = twoRoutes()
    const whenStopped = ctx.whenStopped()
    const resolved = track(whenStopped)
    await ctx.start()
    await ctx.producer().send('direct:front', 1)
    await flush()
    const stopping = ctx.stop()
    await vi.advanceTimersByTimeAsync(1399)
    expect(resolved.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    const report = await stopping
    expect(await whenStopped).toBe(report)
    expect(await ctx.whenStopped()).toBe(report)
    expect(ctx.status).toBe('stopped')
  })

  it('stops the context at the end of an `await using` block', async () => {
    let outside: IntegrationContext | undefined
    {
      await using ctx = twoRoutes()
      outside = ctx
      await ctx.start()
      expect(ctx.status).toBe('started')
    }
    expect(outside.status).toBe('stopped')
    expect((await outside.whenStopped()).graceful).toBe(true)
  })

  it('runs stop() through Symbol.asyncDispose', async () => {
    const ctx = twoRoutes()
    await ctx.start()
    const disposing = ctx[Symbol.asyncDispose]()
    expect(ctx.status).toBe('stopping')
    await disposing
    expect(ctx.status).toBe('stopped')
  })

  it('reports a route stopped in routes() once the context stopped', async () => {
    const ctx = twoRoutes()
    await ctx.start()
    await ctx.stop()
    expect(ctx.routes().map((r) => [r.id, r.status])).toEqual([
      ['front', 'stopped'],
      ['work', 'stopped'],
    ])
  })

  it('stops a context that was never started, without NOW failing', async () => {
    const ctx = twoRoutes()
    const report = await ctx.stop()
    expect(report.forced).toBe(false)
    expect(ctx.status).toBe('stopped')
  })

  it('waits for a start under way before stopping', async () => {
    const ctx = twoRoutes()
    const started = ctx.start()
    const report = await ctx.stop()
    await started
    expect(report.routes.map((r) => r.id)).toEqual(['front', 'work'])
  })
})

describe('events$', () => {
  it('emits the §2.2 lifecycle events in order', async () => {
    const ctx = twoRoutes()
    const events: ContextEvent[] = []
    ctx.events$.subscribe((e) => events.push(e))
    await ctx.start()
    await ctx.producer().send('direct:front', 1)
    await ctx.producer().send('direct:front', 2)
    await ctx.producer().send('direct:front', 3)
    await flush()
    const stopping = ctx.stop({ timeoutMs: 10_000 })
    await vi.advanceTimersByTimeAsync(3000)
    const report = await stopping
    expect(events).toEqual([
      { type: 'context-starting' },
      { type: 'route-started', routeId: 'front' },
      { type: 'route-started', routeId: 'work' },
      { type: 'context-started' },
      { type: 'shutdown-notice', secondsUntilNow: 10 },
      { type: 'shutdown-progress', inflightAndPending: 3, perRoute: { work: 3 }, secondsLeft: 10 },
      { type: 'shutdown-progress', inflightAndPending: 3, perRoute: { work: 3 }, secondsLeft: 9 },
      { type: 'shutdown-progress', inflightAndPending: 1, perRoute: { work: 1 }, secondsLeft: 8 },
      { type: 'route-stopped', routeId: 'front', forced: false },
      { type: 'route-stopped', routeId: 'work', forced: false },
      { type: 'shutdown-now', milliseconds: 5000, forced: false },
      { type: 'context-stopped', report },
    ])
  })

  it('completes the stream once the context stopped', async () => {
    const ctx = twoRoutes()
    const complete = vi.fn()
    ctx.events$.subscribe({ complete })
    await ctx.start()
    await ctx.stop()
    expect(complete).toHaveBeenCalledOnce()
  })

  it('marks route-stopped and shutdown-now forced on forceStop()', async () => {
    const ctx = twoRoutes()
    const events: ContextEvent[] = []
    ctx.events$.subscribe((e) => events.push(e))
    await ctx.start()
    await ctx.forceStop()
    expect(events.filter((e) => e.type === 'route-stopped' || e.type === 'shutdown-now')).toEqual([
      { type: 'route-stopped', routeId: 'front', forced: true },
      { type: 'route-stopped', routeId: 'work', forced: true },
      { type: 'shutdown-now', milliseconds: 5000, forced: true },
    ])
  })
})
