import { createContext, DefaultShutdownStrategy, describeEndpoint, type Exchange } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  captureLogger,
  FORCE_WARNING,
  flush,
  gate,
  IGNORE_WARNING,
  PROGRESS_PREFIX,
  progressLine,
  track,
  untilAborted,
} from './support.js'

/** Work by body: a number waits that many ms, 'stuck' waits until aborted. */
function work(ex: Exchange): Promise<void> {
  const body = ex.message.body
  if (body === 'stuck') return untilAborted(ex)
  return new Promise((resolve) => setTimeout(resolve, body as number))
}

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('DefaultShutdownStrategy with its defaults', () => {
  it('has the SPEC §4.2 defaults', () => {
    const s = new DefaultShutdownStrategy()
    expect({
      timeoutMs: s.timeoutMs,
      shutdownNowOnTimeout: s.shutdownNowOnTimeout,
      shutdownRoutesInReverseOrder: s.shutdownRoutesInReverseOrder,
      suppressLoggingOnTimeout: s.suppressLoggingOnTimeout,
      logInflightExchangesOnTimeout: s.logInflightExchangesOnTimeout,
      progressIntervalMs: s.progressIntervalMs,
    }).toEqual({
      timeoutMs: 300_000,
      shutdownNowOnTimeout: true,
      shutdownRoutesInReverseOrder: false,
      suppressLoggingOnTimeout: false,
      logInflightExchangesOnTimeout: true,
      progressIntervalMs: 1000,
    })
  })

  it('forces the shutdown at 300 s of fake time, logging progress each second with falling counts', async () => {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false })
    await ctx.addRoutes((r) => {
      r.from('seda:a?concurrentConsumers=3').routeId('a').process(work)
      r.from('seda:b?concurrentConsumers=2').routeId('b').process(work)
    })
    await ctx.start()
    const p = ctx.producer()
    for (const body of [1500, 2500, 'stuck']) await p.send('seda:a', body)
    for (const body of [500, 'stuck']) await p.send('seda:b', body)
    await flush()
    expect(ctx.inflight.size()).toBe(5)

    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(299_999)
    expect(stopped.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopped.settled).toBe(true)
    expect(stopped.value).toMatchObject({ graceful: false, forced: true, timedOut: true })

    const progress = logger.matching(PROGRESS_PREFIX)
    expect(progress.slice(0, 4)).toEqual([
      progressLine(5, 300, { a: 3, b: 2 }),
      progressLine(4, 299, { a: 3, b: 1 }),
      progressLine(3, 298, { a: 2, b: 1 }),
      progressLine(2, 297, { a: 1, b: 1 }),
    ])
    expect(progress[299]).toBe(progressLine(2, 1, { a: 1, b: 1 }))
    // One line per second of the 300 s (the last tick may coincide with the timeout).
    expect(progress.length).toBeGreaterThanOrEqual(300)
    expect(progress.length).toBeLessThanOrEqual(301)
    const counts = progress.map((l) => Number(/still (\d+) inflight/.exec(l)![1]))
    expect(counts).toEqual([...counts].sort((x, y) => y - x))
    expect(logger.messages('warn')).toContain(FORCE_WARNING)
  })

  it('finishes at once when the work finishes, without waiting for the next progress tick', async () => {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false })
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').process(work))
    await ctx.start()
    await ctx.producer().send('seda:a', 1234)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1233)
    expect(stopped.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopped.settled).toBe(true)
    expect(stopped.value).toMatchObject({ graceful: true, forced: false, timedOut: false, durationMs: 1234 })
    expect(logger.messages('info')).toContain('Graceful shutdown of 1 routes completed in 1.234 s')
  })

  it('reads its options at shutdown time, so they can be changed while running', async () => {
    const logger = captureLogger()
    const strategy = new DefaultShutdownStrategy()
    const ctx = createContext({ logger, metrics: false, shutdownStrategy: strategy })
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').process(work))
    await ctx.start()
    await ctx.producer().send('seda:a', 'stuck')
    await flush()
    strategy.timeoutMs = 5000
    strategy.progressIntervalMs = 2500
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(5000)
    expect(stopped.settled).toBe(true)
    expect(logger.matching(PROGRESS_PREFIX)).toEqual([
      progressLine(1, 5, { a: 1 }),
      progressLine(1, 3, { a: 1 }),
      progressLine(1, 0, { a: 1 }),
    ])
  })
})

describe('describeEndpoint', () => {
  it('names an endpoint as scheme://path without its options, as the Stopped lines show it', () => {
    expect(
      [
        'seda:orders?concurrentConsumers=4',
        'http:/orders?method=POST',
        'amqp:queue:orders',
        'http://h:1/x?a=1',
      ].map(describeEndpoint),
    ).toEqual(['seda://orders', 'http://orders', 'amqp://queue:orders', 'http://h:1/x'])
  })
})

describe('route order', () => {
  async function stoppedOrder(reverse: boolean) {
    const logger = captureLogger()
    const ctx = createContext({
      logger,
      metrics: false,
      shutdownStrategy: new DefaultShutdownStrategy({ shutdownRoutesInReverseOrder: reverse }),
    })
    await ctx.addRoutes((r) => {
      r.from('direct:one').routeId('one').startupOrder(30).to('mock:x')
      r.from('direct:two').routeId('two').startupOrder(10).to('mock:x')
      r.from('timer:t?period=60000').routeId('t').startupOrder(20).to('mock:x')
    })
    await ctx.start()
    const report = await ctx.stop()
    return { ids: report.routes.map((r) => r.id), lines: logger.matching('Stopped ') }
  }

  it('stops routes in the order they started by default', async () => {
    expect(await stoppedOrder(false)).toEqual({
      ids: ['two', 't', 'one'],
      lines: ['Stopped two (direct://two)', 'Stopped t (timer://t)', 'Stopped one (direct://one)'],
    })
  })

  it('stops routes in reverse startup order with shutdownRoutesInReverseOrder', async () => {
    expect(await stoppedOrder(true)).toEqual({
      ids: ['one', 't', 'two'],
      lines: ['Stopped one (direct://one)', 'Stopped t (timer://t)', 'Stopped two (direct://two)'],
    })
  })
})

describe("shutdownRoute('defer') and seda backlogs", () => {
  it('keeps a deferred route consuming until the other routes drained, then stops it last', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.addRoutes((r) => {
      r.from('timer:tick?period=100')
        .routeId('ticker')
        .startupOrder(1)
        .shutdownRoute('defer')
        .to('mock:ticks')
      r.from('seda:slow').routeId('slow').startupOrder(2).process(work)
      r.from('direct:idle').routeId('idle').startupOrder(3).to('mock:idle')
    })
    await ctx.start()
    await ctx.producer().send('seda:slow', 1000)
    await flush()
    const stopped = track(ctx.stop())
    const ticksAtStop = ctx.mock('ticks').receivedExchanges.length
    await vi.advanceTimersByTimeAsync(950)
    expect(ctx.mock('ticks').receivedExchanges.length).toBeGreaterThanOrEqual(ticksAtStop + 9)
    await vi.advanceTimersByTimeAsync(50)
    expect(stopped.settled).toBe(true)
    const ticksAfter = ctx.mock('ticks').receivedExchanges.length
    await vi.advanceTimersByTimeAsync(1000)
    expect(ctx.mock('ticks').receivedExchanges.length).toBe(ticksAfter)
    // Seda defers too (ShutdownAware), so both deferred routes come last, in startup order.
    expect((await ctx.whenStopped()).routes.map((r) => r.id)).toEqual(['idle', 'ticker', 'slow'])
  })

  it('keeps the routes a deferred seda route calls until work that reached it late is done', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.addRoutes((r) => {
      r.from('direct:api').routeId('api').startupOrder(1).process(work).to('seda:orders')
      r.from('seda:orders').routeId('orders').startupOrder(2).setBody(100).process(work).to('direct:ship')
      r.from('direct:ship').routeId('ship').startupOrder(3).to('mock:shipped')
    })
    await ctx.start()
    const sent = ctx.producer().send('direct:api', 500)
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(600)
    expect((await sent).exception).toBeUndefined()
    expect(stopped.value).toMatchObject({ graceful: true })
    expect(ctx.mock('shipped').receivedExchanges).toHaveLength(1)
    expect(stopped.value!.routes.map((r) => r.id)).toEqual(['api', 'ship', 'orders'])
  })

  it('drains a seda backlog with completeAllTasks before stopping', async () => {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false })
    await ctx.addRoutes((r) =>
      r
        .from('seda:work?concurrentConsumers=1')
        .routeId('work')
        .shutdownRunningTask('completeAllTasks')
        .process(work)
        .to('mock:done'),
    )
    await ctx.start()
    for (let i = 0; i < 10; i++) await ctx.producer().send('seda:work', 300)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(3000)
    expect(stopped.settled).toBe(true)
    expect(stopped.value).toMatchObject({
      graceful: true,
      routes: [{ id: 'work', inflightAtStart: 1, pendingAtStart: 9, aborted: 0, forced: false }],
    })
    expect(ctx.mock('done').receivedExchanges).toHaveLength(10)
    expect(logger.matching(PROGRESS_PREFIX).slice(0, 3)).toEqual([
      progressLine(10, 300, { work: 10 }),
      progressLine(7, 299, { work: 7 }),
      progressLine(4, 298, { work: 4 }),
    ])
  })

  it('drains a seda backlog with completeCurrentTaskOnly too, as an in-memory queue cannot hand work back', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.addRoutes((r) => r.from('seda:work').routeId('work').process(work).to('mock:done'))
    await ctx.start()
    for (let i = 0; i < 5; i++) await ctx.producer().send('seda:work', 100)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(500)
    expect(stopped.value).toMatchObject({ graceful: true })
    expect(ctx.mock('done').receivedExchanges).toHaveLength(5)
  })
})

describe('timeout', () => {
  async function stuckContext(strategy: DefaultShutdownStrategy) {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false, shutdownStrategy: strategy })
    const seen: Exchange[] = []
    await ctx.addRoutes((r) => {
      r.from('seda:a?concurrentConsumers=2')
        .routeId('a')
        .process((ex) => {
          seen.push(ex)
          return work(ex)
        })
    })
    await ctx.start()
    await ctx.producer().send('seda:a', 'stuck')
    await ctx.producer().send('seda:a', 'stuck')
    await flush()
    return { ctx, logger, seen }
  }

  it('warns, aborts every remaining exchange and forces the routes with shutdownNowOnTimeout', async () => {
    const { ctx, logger, seen } = await stuckContext(new DefaultShutdownStrategy({ timeoutMs: 2000 }))
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(2000)
    expect(stopped.value).toMatchObject({
      graceful: false,
      forced: true,
      timedOut: true,
      routes: [{ id: 'a', inflightAtStart: 2, aborted: 2, forced: true }],
    })
    expect(seen.map((ex) => ex.signal.aborted)).toEqual([true, true])
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toContain(FORCE_WARNING)
    expect(logger.messages()).toContain('Forced stopped a (seda://a)')
    expect(ctx.inflight.size()).toBe(0)
  })

  it('logs one InflightExchange line per remaining exchange right after the warning', async () => {
    const { ctx, logger, seen } = await stuckContext(new DefaultShutdownStrategy({ timeoutMs: 2000 }))
    await vi.advanceTimersByTimeAsync(500)
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(2000)
    expect(stopped.settled).toBe(true)
    const warnings = logger.messages('warn')
    const at = warnings.indexOf(FORCE_WARNING)
    expect(warnings.slice(at + 1, at + 3)).toEqual(
      seen.map(
        (ex) =>
          `InflightExchange: [exchangeId=${ex.id}, fromRouteId=a, atRouteId=a, nodeId=process1, elapsed=2500, duration=2500]`,
      ),
    )
  })

  it('names the route and step an exchange is in when it waits inside a direct: call', async () => {
    const logger = captureLogger()
    const ctx = createContext({
      logger,
      metrics: false,
      shutdownStrategy: new DefaultShutdownStrategy({ timeoutMs: 1000 }),
    })
    let id = ''
    await ctx.addRoutes((r) => {
      r.from('seda:outer')
        .routeId('outer')
        .process((ex) => void (id = ex.id))
        .to('direct:inner')
      r.from('direct:inner').routeId('inner').setHeader('x', 1).process(untilAborted)
    })
    await ctx.start()
    await ctx.producer().send('seda:outer', null)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopped.settled).toBe(true)
    expect(logger.matching('InflightExchange')).toEqual([
      `InflightExchange: [exchangeId=${id}, fromRouteId=outer, atRouteId=inner, nodeId=process2, elapsed=1000, duration=1000]`,
    ])
  })

  it('leaves the remaining routes to NOW without shutdownNowOnTimeout, which treats them as forced and counts them', async () => {
    const { ctx, logger, seen } = await stuckContext(
      new DefaultShutdownStrategy({ timeoutMs: 2000, shutdownNowOnTimeout: false }),
    )
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(2000)
    expect(stopped.value).toMatchObject({ graceful: false, forced: true, timedOut: true })
    expect(stopped.value?.routes.find((r) => r.id === 'a')).toMatchObject({ forced: true, aborted: 2 })
    expect(logger.messages('warn')).toContain(IGNORE_WARNING)
    expect(logger.messages('warn')).not.toContain(FORCE_WARNING)
    // The summary says what it left, and the context says what it forced: no "0 routes, forced 0" alone.
    expect(logger.messages('warn').find((m) => m.startsWith('Shutdown of '))).toMatch(
      /; left running for the context to force at shutdown now: \[.*a.*\]$/,
    )
    expect(logger.messages('warn')).toContain(
      'Forced stopped a at shutdown now (the strategy left it running)',
    )
    expect(seen.map((ex) => ex.signal.aborted)).toEqual([true, true])
    expect(ctx.inflight.size()).toBe(0)
  })

  it('logs the timeout warnings at debug with suppressLoggingOnTimeout', async () => {
    const { ctx, logger } = await stuckContext(
      new DefaultShutdownStrategy({ timeoutMs: 1000, suppressLoggingOnTimeout: true }),
    )
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopped.settled).toBe(true)
    expect(logger.messages('debug')).toContain(FORCE_WARNING)
    expect(logger.messages('debug').filter((m) => m.startsWith('InflightExchange: ['))).toHaveLength(2)
    expect(logger.messages('warn').filter((m) => m === FORCE_WARNING || m.startsWith('Inflight'))).toEqual([])
  })

  it('omits the InflightExchange lines without logInflightExchangesOnTimeout', async () => {
    const { ctx, logger } = await stuckContext(
      new DefaultShutdownStrategy({ timeoutMs: 1000, logInflightExchangesOnTimeout: false }),
    )
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopped.settled).toBe(true)
    expect(logger.messages('warn')).toContain(FORCE_WARNING)
    expect(logger.matching('InflightExchange')).toEqual([])
  })

  it('honours stop({ timeoutMs }) over the strategy timeout', async () => {
    const { ctx } = await stuckContext(new DefaultShutdownStrategy())
    const stopped = track(ctx.stop({ timeoutMs: 3000 }))
    await vi.advanceTimersByTimeAsync(2999)
    expect(stopped.settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(stopped.value).toMatchObject({ timedOut: true })
  })
})

describe('forced stop', () => {
  it('reports every route forced, with the aborted in-flight and dropped queued exchanges counted', async () => {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false })
    const seen: Exchange[] = []
    await ctx.addRoutes((r) => {
      r.from('seda:a')
        .routeId('a')
        .process((ex) => {
          seen.push(ex)
          return untilAborted(ex)
        })
      r.from('direct:b').routeId('b').to('mock:b')
    })
    await ctx.start()
    for (let i = 0; i < 4; i++) await ctx.producer().send('seda:a', i)
    await flush()
    const report = await ctx.forceStop()
    expect(report).toMatchObject({
      graceful: false,
      forced: true,
      timedOut: false,
      routes: [
        { id: 'a', inflightAtStart: 1, pendingAtStart: 3, aborted: 4, forced: true },
        { id: 'b', inflightAtStart: 0, pendingAtStart: 0, aborted: 0, forced: true },
      ],
    })
    expect(seen).toHaveLength(1)
    expect(seen[0]!.signal.aborted).toBe(true)
    expect(logger.messages()).toEqual(
      expect.arrayContaining([
        'Forced stop of a dropped 3 queued exchanges from seda://a',
        'Forced stopped a (seda://a)',
        'Forced stopped b (direct://b)',
      ]),
    )
    expect(logger.matching(PROGRESS_PREFIX)).toEqual([])
  })

  it('starts no queued seda message once the timeout forces, even when an aborted exchange frees a slot', async () => {
    const ctx = createContext({
      logger: false,
      metrics: false,
      shutdownStrategy: new DefaultShutdownStrategy({ timeoutMs: 1000 }),
    })
    const started: unknown[] = []
    await ctx.addRoutes((r) => {
      r.from('seda:c')
        .routeId('c')
        .startupOrder(1)
        .process((ex) => {
          started.push(ex.message.body)
          return ex.message.body === 'stuck' ? untilAborted(ex) : undefined
        })
        .to('direct:sink')
      r.from('direct:sink').routeId('sink').startupOrder(2).to('mock:sink')
      // More routes to stop before c: time for the aborted exchange to free its slot.
      for (const n of [3, 4, 5]) r.from(`direct:idle${n}`).routeId(`idle${n}`).startupOrder(n).to('mock:idle')
    })
    await ctx.start()
    for (const body of ['stuck', 'queued 1', 'queued 2']) await ctx.producer().send('seda:c', body)
    await flush()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(1000)
    expect(stopped.value).toMatchObject({
      forced: true,
      routes: [
        { id: 'sink', forced: true },
        { id: 'idle3' },
        { id: 'idle4' },
        { id: 'idle5' },
        { id: 'c', forced: true, inflightAtStart: 1, pendingAtStart: 2, aborted: 3 },
      ],
    })
    expect(started).toEqual(['stuck'])
  })

  it('escalates a draining graceful stop at once when forceStop() is called', async () => {
    const logger = captureLogger()
    const ctx = createContext({ logger, metrics: false })
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
    const graceful = ctx.stop()
    const stopped = track(graceful)
    await vi.advanceTimersByTimeAsync(5000)
    expect(stopped.settled).toBe(false)
    expect(ctx.forceStop()).toBe(graceful)
    await flush(50)
    expect(stopped.value).toMatchObject({
      graceful: false,
      forced: true,
      timedOut: false,
      durationMs: 5000,
      routes: [{ id: 'a', forced: true, aborted: 1 }],
    })
    expect(seen[0]!.signal.aborted).toBe(true)
    expect(logger.messages('warn')).toContain(
      'Forced shutdown requested while draining: forcing the remaining routes now',
    )
  })

  it('escalates a pre-stop delay too', async () => {
    const ctx = createContext({ logger: false, metrics: false, shutdown: { preStopDelayMs: 60_000 } })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').to('mock:a'))
    await ctx.start()
    const stopped = track(ctx.stop())
    await vi.advanceTimersByTimeAsync(10)
    void ctx.forceStop()
    await flush(50)
    expect(stopped.value).toMatchObject({ forced: true })
  })

  it('resolves without waiting for work that ignores its abort signal', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    const never = gate()
    await ctx.addRoutes((r) =>
      r
        .from('seda:a')
        .routeId('a')
        .process(() => never.promise),
    )
    await ctx.start()
    await ctx.producer().send('seda:a', 1)
    await flush()
    const stopped = track(ctx.forceStop())
    await flush(50)
    expect(stopped.value).toMatchObject({ forced: true, routes: [{ id: 'a', aborted: 1 }] })
    never.open()
  })
})
