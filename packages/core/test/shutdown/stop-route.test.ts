import { createContext, DefaultShutdownStrategy, isDromedaryError, type Exchange } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { captureLogger, flush, gate, track, untilAborted } from './support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

function status(ctx: ReturnType<typeof createContext>, id: string): string | undefined {
  return ctx.routes().find((r) => r.id === id)?.status
}

describe('stopRoute', () => {
  it('stops one idle route and resolves true, leaving the others running', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.addRoutes((r) => {
      r.from('direct:a').routeId('a').to('mock:a')
      r.from('direct:b').routeId('b').to('mock:b')
    })
    await ctx.start()
    expect(await ctx.stopRoute('a')).toBe(true)
    expect([status(ctx, 'a'), status(ctx, 'b')]).toEqual(['stopped', 'started'])
    expect(
      isDromedaryError((await ctx.producer().send('direct:a', 1)).exception, 'DROMEDARY_ERR_NO_CONSUMER'),
    ).toBe(true)
    expect((await ctx.producer().send('direct:b', 1)).exception).toBeUndefined()
    await ctx.stop()
  })

  it('waits for the route’s in-flight exchanges and sends neither NOTICE nor NOW', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.addRoutes((r) =>
      r
        .from('seda:a')
        .routeId('a')
        .process(() => new Promise<void>((resolve) => setTimeout(resolve, 700)))
        .to('mock:a'),
    )
    const notice = vi.fn()
    ctx.onShutdownNotice(notice)
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    const stopping = track(ctx.stopRoute('a'))
    await vi.advanceTimersByTimeAsync(699)
    expect(stopping.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopping.value).toBe(true)
    expect(ctx.mock('a').receivedExchanges).toHaveLength(1)
    expect(notice).not.toHaveBeenCalled()
    expect(ctx.shutdownLevel).toBe('running')
    expect(ctx.health().ready).toBe(true)
    await ctx.stop()
  })

  it('resolves false at the timeout with abortAfterTimeout and leaves the route running', async () => {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false })
    const stuck = gate()
    const seen: Exchange[] = []
    await ctx.addRoutes((r) =>
      r
        .from('seda:a?concurrentConsumers=2')
        .routeId('a')
        .process((ex) => {
          seen.push(ex)
          return ex.message.body === 'stuck' ? stuck.promise : undefined
        })
        .to('mock:a'),
    )
    await ctx.start()
    await ctx.producer().send('seda:a', 'stuck')
    await flush()
    const stopping = track(ctx.stopRoute('a', { timeoutMs: 2000, abortAfterTimeout: true }))
    await vi.advanceTimersByTimeAsync(1999)
    expect(stopping.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopping.value).toBe(false)
    expect(status(ctx, 'a')).toBe('started')
    expect(seen[0]!.signal.aborted).toBe(false)
    expect(logger.messages('warn')).toContain(
      'Timeout occurred stopping routes [a]; aborting the stop and leaving them as they were',
    )

    await ctx.producer().send('seda:a', 'after')
    await flush()
    expect(ctx.mock('a').receivedExchanges.map((ex) => ex.message.body)).toEqual(['after'])
    stuck.open()
    await flush()
    expect(ctx.mock('a').receivedExchanges.map((ex) => ex.message.body)).toEqual(['after', 'stuck'])
    await ctx.stop()
  })

  it('resumes a timer route whose intake the aborted stop had halted', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    const stuck = gate()
    let first = true
    await ctx.addRoutes((r) =>
      r
        .from('timer:t?period=100')
        .routeId('t')
        .process(() => {
          if (!first) return undefined
          first = false
          return stuck.promise
        })
        .to('mock:ticks'),
    )
    await ctx.start()
    await vi.advanceTimersByTimeAsync(0)
    const stopping = track(ctx.stopRoute('t', { timeoutMs: 500, abortAfterTimeout: true }))
    await vi.advanceTimersByTimeAsync(500)
    expect(stopping.value).toBe(false)
    stuck.open()
    await vi.advanceTimersByTimeAsync(1000)
    expect(ctx.mock('ticks').receivedExchanges.length).toBeGreaterThanOrEqual(9)
    expect(status(ctx, 't')).toBe('started')
    await ctx.stop()
  })

  it('forces the route at the timeout without abortAfterTimeout, aborting its exchanges', async () => {
    const ctx = createContext({
      logger: false,
      metrics: false,
      shutdownStrategy: new DefaultShutdownStrategy({ timeoutMs: 1000 }),
    })
    const seen: Exchange[] = []
    await ctx.addRoutes((r) =>
      r
        .from('seda:a')
        .routeId('a')
        .process((ex) => {
          seen.push(ex)
          return untilAborted(ex)
        }),
    )
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    const stopping = track(ctx.stopRoute('a'))
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopping.value).toBe(true)
    expect(seen[0]!.signal.aborted).toBe(true)
    expect(status(ctx, 'a')).toBe('stopped')
    await ctx.stop()
  })

  it('rejects an unknown route id with DROMEDARY_ERR_UNKNOWN_ROUTE', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.start()
    await expect(ctx.stopRoute('nope')).rejects.toSatisfy((e) =>
      isDromedaryError(e, 'DROMEDARY_ERR_UNKNOWN_ROUTE'),
    )
    await ctx.stop()
  })
})
