import { createContext, DefaultShutdownStrategy, isDromedaryError, type Exchange } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flush, gate, track, untilAborted } from './support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

function slowContext(options: Parameters<typeof createContext>[0] = {}) {
  const ctx = createContext({ logger: false, metrics: false, ...options })
  void ctx.addRoutes((r) => {
    r.from('seda:slow')
      .routeId('slow')
      .process(() => new Promise<void>((resolve) => setTimeout(resolve, 1000)))
      .to('mock:slow')
    r.from('direct:a').routeId('a').to('mock:a')
  })
  return ctx
}

describe('NOTICE and NOW', () => {
  it('calls NOTICE then NOW with secondsUntilNow = the timeout and milliseconds = nowBudgetMs', async () => {
    const ctx = slowContext({ shutdown: { nowBudgetMs: 1234 } })
    const calls: unknown[] = []
    ctx.onShutdownNotice((p) => void calls.push(['notice', p, ctx.shutdownLevel]))
    ctx.onShutdownNow((p) => void calls.push(['now', p, ctx.shutdownLevel]))
    await ctx.start()
    expect(ctx.shutdownLevel).toBe('running')
    await ctx.stop({ timeoutMs: 42_000 })
    expect(calls).toEqual([
      ['notice', expect.objectContaining({ secondsUntilNow: 42 }), 'pending'],
      ['now', expect.objectContaining({ milliseconds: 1234, forced: false }), 'shutdown'],
    ])
    expect(ctx.shutdownLevel).toBe('shutdown')
  })

  it('announces the strategy timeout in seconds by default (300) and nowBudgetMs 5000', async () => {
    const ctx = slowContext()
    const seen: number[] = []
    ctx.onShutdownNotice(({ secondsUntilNow }) => void seen.push(secondsUntilNow))
    ctx.onShutdownNow(({ milliseconds }) => void seen.push(milliseconds))
    await ctx.start()
    await ctx.stop()
    expect(seen).toEqual([300, 5000])
  })

  it('moves shutdownLevel running → pending → shutdown as the events arrive', async () => {
    const ctx = slowContext()
    const levels: string[] = []
    ctx.events$.subscribe((e) => levels.push(`${e.type}:${ctx.shutdownLevel}`))
    await ctx.start()
    await ctx.stop()
    expect(levels.filter((l) => !l.startsWith('route-'))).toEqual([
      'context-starting:running',
      'context-started:running',
      'shutdown-notice:pending',
      'shutdown-now:shutdown',
      'context-stopped:shutdown',
    ])
  })

  it('awaits async NOTICE listeners before intake stops and the drain begins', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.addRoutes((r) => r.from('timer:t?period=100').routeId('t').to('mock:ticks'))
    const cleanup = gate()
    ctx.onShutdownNotice(() => cleanup.promise)
    const nowCalled = vi.fn()
    ctx.onShutdownNow(nowCalled)
    await ctx.start()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1000)
    const ticks = ctx.mock('ticks').receivedExchanges.length
    expect(ticks).toBeGreaterThanOrEqual(10)
    expect(stopped.settled).toBe(false)
    expect(nowCalled).not.toHaveBeenCalled()
    cleanup.open()
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopped.settled).toBe(true)
    expect(ctx.mock('ticks').receivedExchanges.length).toBe(ticks)
  })

  it('awaits async NOW listeners before the context counts as stopped', async () => {
    const ctx = slowContext()
    const flushed = gate()
    ctx.onShutdownNow(() => flushed.promise)
    await ctx.start()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(100)
    expect(ctx.shutdownLevel).toBe('shutdown')
    expect(ctx.status).toBe('stopping')
    expect(stopped.settled).toBe(false)
    flushed.open()
    await flush(20)
    expect(stopped.settled).toBe(true)
    expect(ctx.status).toBe('stopped')
  })

  it('reaches NOTICE listeners before any message already queued in seda is dispatched', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    const order: string[] = []
    await ctx.addRoutes((r) =>
      r
        .from('seda:q')
        .routeId('q')
        .process((ex) => void order.push(`message ${String(ex.message.body)}`)),
    )
    ctx.onShutdownNotice(() => void order.push('notice'))
    await ctx.start()
    void ctx.producer().send('seda:q', 1)
    void ctx.producer().send('seda:q', 2)
    const stopped = ctx.stop()
    await vi.advanceTimersByTimeAsync(10)
    await stopped
    expect(order).toEqual(['notice', 'message 1', 'message 2'])
  })

  it('keeps calling a listener until it is unsubscribed', async () => {
    const ctx = slowContext()
    const notice = vi.fn()
    const off = ctx.onShutdownNotice(notice)
    off()
    await ctx.start()
    await ctx.stop()
    expect(notice).not.toHaveBeenCalled()
  })

  it('logs a failing listener and still completes the shutdown', async () => {
    const errors: string[] = []
    const ctx = createContext({
      metrics: false,
      logger: {
        debug() {},
        info() {},
        warn() {},
        error: (_o: unknown, m?: string) => void errors.push(m ?? ''),
      },
    })
    ctx.onShutdownNotice(() => Promise.reject(new Error('boom')))
    await ctx.start()
    const report = await ctx.stop()
    expect(report.graceful).toBe(true)
    expect(errors).toEqual(['Shutdown notice listener 1 failed: boom'])
  })

  it('sends NOW with forced: true from forceStop()', async () => {
    const ctx = slowContext()
    const now = vi.fn()
    ctx.onShutdownNow(now)
    await ctx.start()
    await ctx.forceStop()
    expect(now).toHaveBeenCalledWith(expect.objectContaining({ milliseconds: 5000, forced: true }))
  })
})

describe('health()', () => {
  it('is ready only while started and running, and live until stopped', async () => {
    const ctx = slowContext()
    const during: unknown[] = []
    ctx.onShutdownNotice(() => void during.push(ctx.health()))
    expect(ctx.health()).toEqual({ live: true, ready: false })
    await ctx.start()
    expect(ctx.health()).toEqual({ live: true, ready: true })
    await ctx.producer().send('seda:slow', 1)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(500)
    expect(stopped.settled).toBe(false)
    expect(ctx.health()).toEqual({ live: true, ready: false })
    await vi.advanceTimersByTimeAsync(500)
    expect(stopped.settled).toBe(true)
    expect(during).toEqual([{ live: true, ready: false }])
    expect(ctx.health()).toEqual({ live: false, ready: false })
  })
})

describe('after NOW', () => {
  it('rejects direct: and seda: sends with DROMEDARY_ERR_SHUTTING_DOWN', async () => {
    const ctx = slowContext()
    const results: Exchange[] = []
    ctx.onShutdownNow(async () => {
      results.push(await ctx.producer().send('direct:a', 1))
      results.push(await ctx.producer().send('seda:slow', 2))
    })
    await ctx.start()
    await ctx.stop()
    expect(results.map((ex) => isDromedaryError(ex.exception, 'DROMEDARY_ERR_SHUTTING_DOWN'))).toEqual([
      true,
      true,
    ])
    expect(ctx.mock('a').receivedExchanges).toHaveLength(0)
  })

  it('aborts an exchange still running at NOW, so its later send between routes never happens', async () => {
    const ctx = createContext({
      logger: false,
      metrics: false,
      shutdownStrategy: new DefaultShutdownStrategy({ timeoutMs: 1000, shutdownNowOnTimeout: false }),
    })
    const release = gate()
    let running: Exchange | undefined
    await ctx.addRoutes((r) => {
      r.from('seda:in')
        .routeId('in')
        .process((ex) => {
          running = ex
          return release.promise
        })
        .to('direct:out')
      r.from('direct:out').routeId('out').to('mock:out')
    })
    await ctx.start()
    await ctx.producer().send('seda:in', 1)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopped.value).toMatchObject({ timedOut: true, forced: true, graceful: false })
    expect(ctx.shutdownLevel).toBe('shutdown')
    release.open()
    await flush(20)
    expect(isDromedaryError(running!.exception, 'DROMEDARY_ERR_ABORTED')).toBe(true)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(0)
    expect(ctx.inflight.size()).toBe(0)
  })
})

describe('preStopDelayMs', () => {
  it('keeps consuming with readiness down for the delay, then stops intake', async () => {
    const ctx = createContext({ logger: false, metrics: false, shutdown: { preStopDelayMs: 2000 } })
    await ctx.addRoutes((r) => r.from('timer:t?period=100').routeId('t').to('mock:ticks'))
    await ctx.start()
    const ticks = () => ctx.mock('ticks').receivedExchanges.length
    const stopped = track(ctx.stop())
    const atNotice = ticks()
    await vi.advanceTimersByTimeAsync(1950)
    expect(ticks()).toBeGreaterThanOrEqual(atNotice + 19)
    expect(ctx.health()).toEqual({ live: true, ready: false })
    expect(ctx.shutdownLevel).toBe('pending')
    expect(stopped.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(50)
    expect(stopped.settled).toBe(true)
    const atStop = ticks()
    await vi.advanceTimersByTimeAsync(1000)
    expect(ticks()).toBe(atStop)
  })

  it('counts the delay in the shutdown duration', async () => {
    const ctx = createContext({ logger: false, metrics: false, shutdown: { preStopDelayMs: 1500 } })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').to('mock:a'))
    await ctx.start()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1500)
    expect(stopped.value).toMatchObject({ graceful: true, durationMs: 1500 })
  })
})

describe('stuck work and NOW', () => {
  it('aborts every signal before NOW when the timeout forces', async () => {
    const ctx = createContext({
      logger: false,
      metrics: false,
      shutdownStrategy: new DefaultShutdownStrategy({ timeoutMs: 1000 }),
    })
    const seen: Exchange[] = []
    const atNow: boolean[] = []
    await ctx.addRoutes((r) =>
      r
        .from('seda:a')
        .routeId('a')
        .process((ex) => {
          seen.push(ex)
          return untilAborted(ex)
        }),
    )
    ctx.onShutdownNow(() => void atNow.push(...seen.map((ex) => ex.signal.aborted)))
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopped.settled).toBe(true)
    expect(atNow).toEqual([true])
  })
})
