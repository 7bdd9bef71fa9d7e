// Every shutdown ends in bounded time, whatever its participants do, and what it leaves behind is still
// handed back or counted.
import {
  CoreErrorCodes,
  DefaultShutdownStrategy,
  type Component,
  type ConsumerHost,
  type ContextOptions,
  type Exchange,
  type IntegrationContext,
} from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { disposeContexts, exchangesTotal, newContext } from '../support.js'
import { captureLogger, flush, track, untilAborted } from './support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

const never = (): Promise<void> => new Promise<void>(() => undefined)

/** A component whose consumers' hooks and close do what the test says (default: finish at once). */
function stubComponent(hooks: {
  prepareShutdown?: () => void | Promise<void>
  stop?: () => void | Promise<void>
  close?: () => void | Promise<void>
}): { component: Component; hosts: ConsumerHost[] } {
  const hosts: ConsumerHost[] = []
  const component: Component = {
    createEndpoint(uri) {
      uri.parseOptions({})
      return {
        uri: uri.uri,
        createConsumer(host) {
          hosts.push(host)
          return {
            start: () => undefined,
            prepareShutdown: () => hooks.prepareShutdown?.(),
            stop: () => hooks.stop?.(),
          }
        },
      }
    },
    close: () => hooks.close?.(),
  }
  return { component, hosts }
}

/** Advances fake time until `p` settled, at most `ms`; returns whether it did. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  const t = track(p)
  await vi.advanceTimersByTimeAsync(ms)
  await flush(50)
  return t.settled
}

describe('a shutdown that runs out of time', () => {
  it('still drops and counts a seda backlog when another route’s intake stop at NOW never returns', async () => {
    const stub = stubComponent({ prepareShutdown: never })
    const ctx: IntegrationContext = newContext({
      logger: captureLogger(),
      // The routes left running at the timeout are forced at NOW, where the stub's intake stop hangs.
      shutdown: { timeoutMs: 100, nowBudgetMs: 100, shutdownNowOnTimeout: false },
      components: { stub: stub.component },
    })
    await ctx.addRoutes((r) => {
      r.from('seda:q').routeId('q').process(untilAborted)
      r.from('stub:in').routeId('stub').to('mock:stub')
    })
    await ctx.start()
    const sends: Array<Promise<Exchange>> = [
      ctx.producer().send('seda:q', 1),
      ctx.producer().send('seda:q', 2),
    ]
    await flush()
    expect(ctx.routes().find((r) => r.id === 'q')).toMatchObject({ inflight: 1, pending: 1 })

    expect(await settlesWithin(ctx.stop(), 100 + 100 + 1000)).toBe(true)
    await flush()
    expect((await Promise.all(sends)).map((ex) => ex.exception)).toEqual([undefined, undefined])
    // The one in flight was aborted and the queued one dropped: both counted, none lost silently.
    expect(await exchangesTotal(ctx, 'q', 'aborted')).toBe(2)
    expect(ctx.routes().find((r) => r.id === 'q')).toMatchObject({ status: 'stopped', pending: 0 })
  })
})

describe('a participant that never finishes', () => {
  it('cannot hold stop() past timeoutMs + nowBudgetMs + 1 s: a NOTICE listener is named, left behind, not graceful', async () => {
    const logger = captureLogger()
    const ctx = newContext({ logger, shutdown: { nowBudgetMs: 1000 } })
    ctx.onShutdownNotice(() => undefined)
    ctx.onShutdownNotice(never)
    await ctx.start()
    const stopping = ctx.stop({ timeoutMs: 500 })
    expect(await settlesWithin(stopping, 500 + 1000 + 1000)).toBe(true)
    expect(await stopping).toMatchObject({ graceful: false })
    expect(logger.messages('warn')).toContain('Shutdown notice listener 2 did not finish within 500 ms')
    expect(ctx.status).toBe('stopped')
  })

  it('cannot hold stop() either as a NOW listener or a component that does not close', async () => {
    const logger = captureLogger()
    const stub = stubComponent({ close: never })
    const ctx = newContext({ logger, shutdown: { nowBudgetMs: 1000 }, components: { stub: stub.component } })
    ctx.onShutdownNow(never)
    await ctx.addRoutes((r) => r.from('stub:in').routeId('in').to('mock:in'))
    await ctx.start()
    const stopping = ctx.stop({ timeoutMs: 500 })
    expect(await settlesWithin(stopping, 500 + 1000 + 1000)).toBe(true)
    expect(await stopping).toMatchObject({ graceful: false })
    expect(logger.messages('warn')).toEqual(
      expect.arrayContaining([
        'Shutdown now listener 1 did not finish within 1000 ms',
        'Component stub (close) did not finish within 1000 ms',
      ]),
    )
  })

  it('is cut short by forceStop(), which then resolves within nowBudgetMs + 1 s', async () => {
    const ctx = newContext({ shutdown: { nowBudgetMs: 1000 } })
    ctx.onShutdownNotice(never)
    await ctx.start()
    const stopping = track(ctx.stop({ timeoutMs: 300_000 }))
    await vi.advanceTimersByTimeAsync(3000)
    expect(stopping.settled).toBe(false)
    expect(await settlesWithin(ctx.forceStop(), 1000 + 1000)).toBe(true)
    expect(stopping.value).toMatchObject({ graceful: false, forced: true })
  })
})

describe('run()', () => {
  it('ends on a second signal a shutdown that a NOTICE listener holds, and removes its handlers', async () => {
    const ctx = newContext({ shutdown: { nowBudgetMs: 1000 } })
    ctx.onShutdownNotice(never)
    const before = process.listenerCount('SIGUSR2')
    const running = track(ctx.run({ signals: ['SIGUSR2'], exit: false }))
    await vi.advanceTimersByTimeAsync(0)
    expect(ctx.status).toBe('started')
    process.emit('SIGUSR2', 'SIGUSR2')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(running.settled).toBe(false)
    process.emit('SIGUSR2', 'SIGUSR2')
    await vi.advanceTimersByTimeAsync(1000 + 1000)
    expect(running.value).toMatchObject({ graceful: false, forced: true })
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })
})

describe('forceStop()', () => {
  it('skips the pre-stop delay and announces 0 seconds until NOW', async () => {
    const ctx = newContext({ shutdown: { preStopDelayMs: 60_000, nowBudgetMs: 1000 } })
    const notices: number[] = []
    ctx.onShutdownNotice((p) => {
      notices.push(p.secondsUntilNow)
    })
    await ctx.start()
    expect(await settlesWithin(ctx.forceStop(), 0)).toBe(true)
    expect(notices).toEqual([0])
  })

  it('ends a stopRoute still draining when the context’s own stop ends, leaving no timer of it behind', async () => {
    const ctx = newContext()
    // A step that ignores its abort signal keeps the route's in-flight count up after it was forced.
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').process(never))
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    const stopRoute = track(ctx.stopRoute('a'))
    expect(await settlesWithin(ctx.stop({ timeoutMs: 100 }), 100 + 5000 + 1000)).toBe(true)
    await flush()
    expect(stopRoute.value).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('ends a stopRoute still draining, leaving no timer of it behind', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').process(untilAborted))
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    // The default route-stop timeout is the strategy's 300 s.
    const stopRoute = track(ctx.stopRoute('a'))
    await vi.advanceTimersByTimeAsync(1000)
    expect(await settlesWithin(ctx.forceStop(), 0)).toBe(true)
    expect(stopRoute.value).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('forcing', () => {
  it('goes through what is in flight once, not once per route', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      for (let i = 0; i < 300; i++) r.from(`direct:r${i}`).routeId(`r${i}`).process(untilAborted)
    })
    await ctx.start()
    const sends = []
    for (let i = 0; i < 300; i++)
      for (let j = 0; j < 5; j++) sends.push(ctx.producer().send(`direct:r${i}`, j))
    expect(ctx.inflight.size()).toBe(1500)
    // White box: a pass over the in-flight exchanges is one call of the repository's `exchanges()`.
    const passes = vi.spyOn(ctx.inflight as unknown as { exchanges(): unknown[] }, 'exchanges')
    expect(await settlesWithin(ctx.forceStop(), 0)).toBe(true)
    expect(passes.mock.calls.length).toBeLessThanOrEqual(4)
    expect((await Promise.all(sends)).every((ex) => ex.signal.aborted)).toBe(true)
    expect(await exchangesTotal(ctx, 'r299', 'aborted')).toBe(5)
  })
})

describe('many participants', () => {
  it('race their deadline without a "possible memory leak" warning from the shared abort signal', async () => {
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const ctx = newContext()
      for (let i = 0; i < 20; i++) ctx.onShutdownNotice(() => Promise.resolve())
      await ctx.addRoutes((r) => {
        for (let i = 0; i < 20; i++) r.from(`direct:r${i}`).routeId(`r${i}`).to(`mock:r${i}`)
      })
      await ctx.start()
      expect(await settlesWithin(ctx.forceStop(), 0)).toBe(true)
      await new Promise((resolve) => process.nextTick(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning')
  })
})

describe('a custom strategy that does not stop the route of a stopRoute', () => {
  it('is backed by the forced path: the route’s in-flight exchanges are aborted, not left running', async () => {
    const ctx = newContext({
      shutdownStrategy: {
        shutdown: async () => ({ graceful: true, forced: false, timedOut: false, durationMs: 0, routes: [] }),
      },
    })
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').process(untilAborted))
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    expect(await ctx.stopRoute('a')).toBe(true)
    await flush()
    expect(ctx.routes()[0]).toMatchObject({ status: 'stopped', inflight: 0 })
    expect(await exchangesTotal(ctx, 'a', 'aborted')).toBe(1)
  })
})

describe('a custom strategy that throws', () => {
  it('is replaced by the forced path: NOTICE listeners called, in-flight work aborted, routes reported', async () => {
    const logger = captureLogger()
    const ctx = newContext({
      logger,
      shutdownStrategy: {
        async shutdown() {
          await new Promise((resolve) => setTimeout(resolve, 100))
          throw new Error('bug in strategy')
        },
      },
    })
    const notice = vi.fn()
    ctx.onShutdownNotice(notice)
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').process(untilAborted))
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    const stopping = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(100)
    const report = stopping.value!
    expect(notice).toHaveBeenCalledOnce()
    expect(notice).toHaveBeenCalledWith(expect.objectContaining({ secondsUntilNow: 0 }))
    expect(report).toMatchObject({ graceful: false, forced: true, durationMs: 100 })
    expect(report.routes).toEqual([expect.objectContaining({ id: 'a', aborted: 1, forced: true })])
    expect(await exchangesTotal(ctx, 'a', 'aborted')).toBe(1)
    expect(logger.messages('error')).toContain('Shutdown strategy failed: bug in strategy; forcing')
  })
})

describe('duration options', () => {
  const BAD = [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, 2 ** 31, 2 ** 32, '500']

  it.each(BAD)(
    'refuses stop({ timeoutMs: %s }), starting no shutdown, and a later valid stop() works',
    async (bad) => {
      const ctx = newContext()
      await ctx.start()
      await expect(ctx.stop({ timeoutMs: bad as number })).rejects.toMatchObject({
        code: CoreErrorCodes.INVALID_OPTION,
      })
      expect([ctx.status, ctx.shutdownLevel]).toEqual(['started', 'running'])
      expect(await settlesWithin(ctx.stop({ timeoutMs: 1000 }), 0)).toBe(true)
      expect(ctx.status).toBe('stopped')
    },
  )

  it.each<[string, NonNullable<ContextOptions['shutdown']>]>([
    ['timeoutMs', { timeoutMs: 2 ** 32 }],
    ['nowBudgetMs', { nowBudgetMs: -1 }],
    ['preStopDelayMs', { preStopDelayMs: 'soon' as unknown as number }],
    ['progressIntervalMs', { progressIntervalMs: 0 }],
    ['progressIntervalMs', { progressIntervalMs: 1e10 }],
  ])('refuses a context whose shutdown.%s is out of range', (option, shutdown) => {
    expect(() => newContext({ shutdown })).toThrow(
      expect.objectContaining({
        code: CoreErrorCodes.INVALID_OPTION,
        message: expect.stringContaining(option),
      }),
    )
  })

  it('refuses a strategy timeout or progress interval out of range, also when set at run time', () => {
    const strategy = new DefaultShutdownStrategy()
    for (const set of [
      () => (strategy.timeoutMs = Number.POSITIVE_INFINITY),
      () => (strategy.timeoutMs = 1e12),
      () => (strategy.progressIntervalMs = 9),
    ])
      expect(set).toThrow(expect.objectContaining({ code: CoreErrorCodes.INVALID_OPTION }))
    expect([strategy.timeoutMs, strategy.progressIntervalMs]).toEqual([300_000, 1000])
  })

  it('refuses stopRoute with a timeout out of range, leaving the route running', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').to('mock:a'))
    await ctx.start()
    await expect(ctx.stopRoute('a', { timeoutMs: 2 ** 32 })).rejects.toMatchObject({
      code: CoreErrorCodes.INVALID_OPTION,
    })
    expect(ctx.routes()[0]!.status).toBe('started')
  })
})
