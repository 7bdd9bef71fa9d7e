// A route's status tells the truth about its consumer, through every control path and every interleaving of
// them with the context's own shutdown.
import {
  CoreErrorCodes,
  type Component,
  type Consumer,
  type ConsumerHost,
  type IntegrationContext,
  type StopOptions,
} from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  captureLogger,
  disposeContexts,
  exchangesTotal,
  hostComponent,
  metricValue,
  newContext,
} from '../support.js'
import { abortableSleep, flush, track, untilAborted } from '../shutdown/support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

/** A component whose consumers' hooks do what the test says; `feed(route, body)` runs an exchange. */
function stubConsumer(
  hooks: Partial<Record<'stop' | 'resume', ((options: StopOptions) => void | Promise<void>) | undefined>>,
) {
  const hosts = new Map<string, ConsumerHost>()
  const component: Component = {
    createEndpoint(uri) {
      uri.parseOptions({})
      return {
        uri: uri.uri,
        createConsumer(host): Consumer {
          hosts.set(host.routeId, host)
          const consumer: Consumer = { start: () => undefined, stop: (o) => hooks.stop?.(o) }
          if (!('resume' in hooks)) {
            consumer.suspend = () => undefined
            consumer.resume = () => undefined
          }
          return consumer
        },
      }
    },
  }
  return {
    component,
    feed: (routeId: string, body: unknown) => {
      const host = hosts.get(routeId)!
      return host.process(host.createExchange(body))
    },
  }
}

function route(ctx: IntegrationContext, id: string) {
  return ctx.routes().find((r) => r.id === id)!
}

const dropped = (ctx: IntegrationContext, endpoint: string) =>
  metricValue(ctx, 'dromedary_messages_dropped_total', { context: ctx.name, endpoint })

describe('messages waiting for a route that is not running', () => {
  it('are dropped, logged and counted when the context stops with their seda route never started', async () => {
    const log = captureLogger()
    const ctx = newContext({ logger: log.logger })
    await ctx.addRoutes((r) => r.from('seda:orders').routeId('orders').autoStartup(false).to('mock:orders'))
    await ctx.start()
    // The queue outlives its consumer (Camel): the sends are accepted and wait for a startRoute.
    const sends = await Promise.all([1, 2, 3].map((n) => ctx.producer().send('seda:orders', n)))
    expect(sends.map((ex) => ex.exception)).toEqual([undefined, undefined, undefined])

    await ctx.stop()
    await flush()
    expect(route(ctx, 'orders').status).toBe('stopped')
    expect(await dropped(ctx, 'seda://orders')).toBe(3)
    expect(log.lines.map((l) => l.msg)).toContain(
      'Dropped 3 messages left in seda://orders, whose route is not running',
    )
    expect(ctx.mock('orders').receivedExchanges).toHaveLength(0)
  })

  it('are dropped, logged and counted when a context that never started is stopped', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:orders').routeId('orders').to('mock:orders'))
    expect((await ctx.producer().send('seda:orders', 1)).exception).toBeUndefined()
    await ctx.stop()
    expect(await dropped(ctx, 'seda://orders')).toBe(1)
  })
})

/** A timer route `t` whose exchanges each take `ms` (ending early when aborted); returns their creation times. */
async function slowTimer(ctx: IntegrationContext, period: number, ms: number): Promise<number[]> {
  const fired: number[] = []
  await ctx.addRoutes((r) =>
    r
      .from(`timer:t?period=${period}`)
      .routeId('t')
      .process((ex) => {
        fired.push(Date.now())
        return abortableSleep(ex, ms)
      }),
  )
  return fired
}

describe('stopRoute with abortAfterTimeout', () => {
  it('never reopens intake once the context’s stop began, and the stop drains as soon as the work ends', async () => {
    const ctx = newContext()
    const fired = await slowTimer(ctx, 100, 1000)
    await ctx.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(fired).toHaveLength(1)
    const stopRoute = track(ctx.stopRoute('t', { timeoutMs: 300, abortAfterTimeout: true }))
    await vi.advanceTimersByTimeAsync(100)
    const stopping = track(ctx.stop({ timeoutMs: 5000 }))
    await vi.advanceTimersByTimeAsync(250)
    // The route stop timed out after NOTICE: it reports false, and the context's stop owns the route now.
    expect(stopRoute.value).toBe(false)
    expect(route(ctx, 't').status).toBe('stopping')
    await vi.advanceTimersByTimeAsync(650)
    expect(stopping.value).toMatchObject({ graceful: true, forced: false })
    expect(Date.now() - fired[0]!).toBe(1000)
    expect(fired).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1000)
    expect(fired).toHaveLength(1)
  })

  it('leaves a suspended route suspended, creating nothing, until it is resumed', async () => {
    const ctx = newContext()
    const fired = await slowTimer(ctx, 100, 1000)
    await ctx.start()
    await vi.advanceTimersByTimeAsync(0)
    await ctx.suspendRoute('t')
    const stopRoute = track(ctx.stopRoute('t', { timeoutMs: 300, abortAfterTimeout: true }))
    await vi.advanceTimersByTimeAsync(300)
    expect(stopRoute.value).toBe(false)
    expect(route(ctx, 't').status).toBe('suspended')
    await vi.advanceTimersByTimeAsync(2000)
    expect(fired).toHaveLength(1)
    await ctx.resumeRoute('t')
    await vi.advanceTimersByTimeAsync(100)
    expect(fired).toHaveLength(2)
  })
})

describe('stopRoute without shutdownNowOnTimeout', () => {
  it('leaves the route started and consuming when the timeout hits, and the context’s stop still stops it', async () => {
    const ctx = newContext({ shutdown: { shutdownNowOnTimeout: false } })
    await ctx.addRoutes((r) =>
      r
        .from('seda:a?concurrentConsumers=2')
        .routeId('a')
        .process((ex) => (ex.message.body === 'stuck' ? untilAborted(ex) : undefined))
        .to('mock:a'),
    )
    await ctx.start()
    await ctx.producer().send('seda:a', 'stuck')
    await flush()
    const stopRoute = track(ctx.stopRoute('a', { timeoutMs: 300 }))
    await vi.advanceTimersByTimeAsync(300)
    expect(stopRoute.value).toBe(false)
    expect(route(ctx, 'a').status).toBe('started')
    await ctx.producer().send('seda:a', 'after')
    await flush()
    expect(ctx.mock('a').receivedExchanges.map((ex) => ex.message.body)).toEqual(['after'])

    const stopping = track(ctx.stop({ timeoutMs: 500 }))
    await vi.advanceTimersByTimeAsync(500)
    expect(stopping.value?.routes.map((r) => ({ id: r.id, aborted: r.aborted }))).toEqual([
      { id: 'a', aborted: 1 },
    ])
    expect(route(ctx, 'a').status).toBe('stopped')
  })
})

describe('timer routes', () => {
  it('keep one firing chain when resumed while an exchange is still running', async () => {
    const ctx = newContext()
    const fired = await slowTimer(ctx, 200, 300)
    await ctx.start()
    await vi.advanceTimersByTimeAsync(100)
    await ctx.suspendRoute('t')
    await vi.advanceTimersByTimeAsync(50)
    await ctx.resumeRoute('t')
    // Fixed delay: the next fire is `period` after the running exchange ends — 0, 500, 1000, 1500.
    await vi.advanceTimersByTimeAsync(1849)
    expect(fired).toEqual([0, 500, 1000, 1500].map((t) => fired[0]! + t))
    await vi.advanceTimersByTimeAsync(1)
    expect(fired).toHaveLength(5)
  })
})

describe('addRoutes', () => {
  it('lets a rejected batch be fixed and added again: it claimed no direct: or seda: consumer', async () => {
    const ctx = newContext()
    await ctx.start()
    const batch = (scheme: string) => (r: Parameters<Parameters<IntegrationContext['addRoutes']>[0]>[0]) => {
      r.from('direct:a').routeId('a').to('mock:a')
      r.from('seda:b').routeId('b').to('mock:b')
      r.from(`${scheme}:c`).routeId('c').to('mock:c')
    }
    expect(() => ctx.addRoutes(batch('dirct'))).toThrow(
      expect.objectContaining({ code: CoreErrorCodes.UNKNOWN_SCHEME }),
    )
    await ctx.addRoutes(batch('direct'))
    await ctx.producer().send('direct:a', 1)
    await ctx.producer().send('seda:b', 2)
    await flush()
    expect([ctx.mock('a'), ctx.mock('b')].map((m) => m.receivedExchanges.length)).toEqual([1, 1])
  })

  it('rejects its promise, with no unhandled rejection, when a route added after start() fails to start', async () => {
    const host = hostComponent({ failStart: 'bad' })
    const ctx = newContext({ components: { host: host.component } })
    await ctx.start()
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown) => unhandled.push(err)
    process.on('unhandledRejection', onUnhandled)
    try {
      await expect(
        ctx.addRoutes((r) => {
          r.from('host:good').routeId('good').to('mock:good')
          r.from('host:bad').routeId('bad').to('mock:bad')
        }),
      ).rejects.toMatchObject({ code: CoreErrorCodes.ROUTE_START_FAILED })
      await flush()
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
    expect(unhandled).toEqual([])
    // The batch's route that did start is stopped again.
    expect(host.calls).toEqual(['start:good', 'start:bad', 'stop:good:true'])
    expect([route(ctx, 'good').status, route(ctx, 'bad').status]).toEqual(['stopped', 'stopped'])
  })
})

describe('deferred routes', () => {
  it('keep consuming until nothing is left when every route being stopped is deferred', async () => {
    const ctx = newContext()
    const ticks: number[] = []
    await ctx.addRoutes((r) => {
      r.from('seda:work')
        .routeId('work')
        .process((ex) => abortableSleep(ex, 100))
        .to('mock:work')
      r.from('timer:tick?period=50')
        .routeId('tick')
        .shutdownRoute('defer')
        .process(() => {
          ticks.push(Date.now())
        })
    })
    await ctx.start()
    for (const body of ['A', 'B', 'C', 'D', 'E']) await ctx.producer().send('seda:work', body)
    await flush()
    const stoppedAt = Date.now()
    const stopping = track(ctx.stop({ timeoutMs: 5000 }))
    await vi.advanceTimersByTimeAsync(500)
    expect(stopping.value).toMatchObject({ graceful: true })
    expect(ctx.mock('work').receivedExchanges.map((ex) => ex.message.body)).toEqual(['A', 'B', 'C', 'D', 'E'])
    expect(ticks.filter((t) => t > stoppedAt).length).toBeGreaterThan(0)
  })
})

describe('routes left running at the timeout without shutdownNowOnTimeout', () => {
  it('are treated at NOW as in a forced stop: exchanges aborted, backlog dropped and counted, reported, not graceful', async () => {
    const ctx = newContext({ shutdown: { shutdownNowOnTimeout: false } })
    await ctx.addRoutes((r) => {
      r.from('seda:a').routeId('a').delay(10_000).to('seda:out')
      r.from('seda:out').routeId('out').to('mock:out')
    })
    await ctx.start()
    for (const n of [1, 2, 3]) await ctx.producer().send('seda:a', n)
    await flush()
    const stopping = track(ctx.stop({ timeoutMs: 500 }))
    await vi.advanceTimersByTimeAsync(500)
    const report = stopping.value!
    expect(report).toMatchObject({ graceful: false, timedOut: true })
    // One in flight (its delay cut short: aborted, never sent on), two still queued: all three counted aborted.
    expect(report.routes.find((x) => x.id === 'a')).toMatchObject({ aborted: 3, forced: true })
    expect(await exchangesTotal(ctx, 'a', 'aborted')).toBe(3)
    expect(await exchangesTotal(ctx, 'a', 'failed')).toBe(0)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(0)
  })
})

describe('a consumer whose stop() throws', () => {
  function throwingStop(withResume: boolean) {
    return stubConsumer({
      stop: () => {
        throw new Error('cannot stop')
      },
      ...(withResume ? {} : { resume: undefined }),
    })
  }

  it('still ends stopped after stopRoute, the failure logged', async () => {
    const log = captureLogger()
    const stub = throwingStop(true)
    const ctx = newContext({ logger: log.logger, components: { stub: stub.component } })
    await ctx.addRoutes((r) => r.from('stub:a').routeId('a').to('mock:a'))
    await ctx.start()
    expect(await ctx.stopRoute('a')).toBe(true)
    expect(route(ctx, 'a').status).toBe('stopped')
    expect(log.lines.some((l) => l.level === 'error' && l.msg?.includes('cannot stop') === true)).toBe(true)
  })

  it.each([
    ['abortAfterTimeout', { shutdownNowOnTimeout: true }, { abortAfterTimeout: true }],
    ['shutdownNowOnTimeout: false', { shutdownNowOnTimeout: false }, {}],
  ])(
    'is forced, its exchanges aborted, when its stopRoute (%s) times out and it cannot take work again',
    async (_, shutdown, options) => {
      const stub = throwingStop(false)
      const ctx = newContext({ shutdown, components: { stub: stub.component } })
      await ctx.addRoutes((r) => r.from('stub:a').routeId('a').process(untilAborted))
      await ctx.start()
      void stub.feed('a', 1)
      const stopping = track(ctx.stopRoute('a', { timeoutMs: 100, ...options }))
      await vi.advanceTimersByTimeAsync(100 + 5000 + 1000)
      // It could not be left as it was: it is stopped instead, and says so; nothing of it keeps running.
      expect(stopping.value).toBe(true)
      expect(route(ctx, 'a')).toMatchObject({ status: 'stopped', inflight: 0 })
      expect(await exchangesTotal(ctx, 'a', 'aborted')).toBe(1)
    },
  )
})

describe('a consumer that cannot take work again after a stopRoute timed out', () => {
  it.each([
    ['abortAfterTimeout', { shutdownNowOnTimeout: true }, { abortAfterTimeout: true }],
    ['shutdownNowOnTimeout: false', { shutdownNowOnTimeout: false }, {}],
  ])(
    'does not hold stopRoute (%s) past its timeout and the NOW budget: the route is left behind, stopped',
    async (_, shutdown, options) => {
      const stub = stubConsumer({ stop: () => new Promise<void>(() => undefined), resume: undefined })
      const ctx = newContext({
        shutdown: { nowBudgetMs: 1000, ...shutdown },
        components: { stub: stub.component },
      })
      await ctx.addRoutes((r) => r.from('stub:a').routeId('a').process(untilAborted))
      await ctx.start()
      void stub.feed('a', 1)
      // Without `resume`, taking work again means stop() then start(): stop() never returns here.
      const stopping = track(ctx.stopRoute('a', { timeoutMs: 100, ...options }))
      await vi.advanceTimersByTimeAsync(100 + 1000 + 1000)
      expect(stopping.value).toBe(true)
      expect(route(ctx, 'a').status).toBe('stopped')
      expect(vi.getTimerCount()).toBe(0)
    },
  )
})

describe('taking work again after a stopRoute timed out', () => {
  it('gives the consumer a deadline signal for the stop() it needs to restart, so it ends in time', async () => {
    const signals: Array<AbortSignal | undefined> = []
    const stub = stubConsumer({
      // Without `resume`, taking work again is stop() then start(); this stop() ends only when told to.
      stop: ({ signal }) => {
        signals.push(signal)
        return new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()))
      },
      resume: undefined,
    })
    const ctx = newContext({
      shutdown: { nowBudgetMs: 1000, shutdownNowOnTimeout: false },
      components: { stub: stub.component },
    })
    await ctx.addRoutes((r) => r.from('stub:a').routeId('a').process(untilAborted))
    await ctx.start()
    void stub.feed('a', 1)
    const stopping = track(ctx.stopRoute('a', { timeoutMs: 100 }))
    await vi.advanceTimersByTimeAsync(100 + 1000 + 1000)
    expect(signals[0]).toBeInstanceOf(AbortSignal)
    expect(signals[0]?.aborted).toBe(true)
    expect(stopping.settled).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })
})
