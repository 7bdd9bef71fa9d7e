import {
  DefaultShutdownStrategy,
  isDromedaryError,
  type Exchange,
  type IntegrationContext,
  type RouteDsl,
} from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  captureLogger,
  deferred,
  disposeContexts,
  exchangesTotal,
  newContext,
  type Deferred,
} from '../support.js'

const NOW_BUDGET_MS = 5000

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  await disposeContexts()
  vi.useRealTimers()
})

/** Waits until the exchange is aborted (what a well-behaved slow call does with `exchange.signal`). */
function untilAborted(ex: Exchange): Promise<void> {
  return new Promise((_, reject) => {
    ex.signal.addEventListener('abort', () => reject(new Error('aborted by shutdown')), { once: true })
  })
}

/** A process step that resolves `all` once it has seen `n` exchanges. */
function countTo(n: number, all: Deferred<void>) {
  let seen = 0
  return () => {
    if (++seen === n) all.resolve()
  }
}

/**
 * Seda route `calls` takes 4 exchanges and hands each to the 1-worker `pool` group (asyncTask or
 * asyncTaskData); route `slow` keeps the running one until it is aborted, so 3 stay queued.
 */
async function queuedTasks(kind: 'asyncTask' | 'asyncTaskData') {
  const logger = captureLogger()
  const ctx = newContext({ logger: logger.logger, workerGroups: { pool: { workers: 1 } } })
  const entered = deferred()
  await ctx.addRoutes((r) => {
    const calls = r.from('seda:calls').routeId('calls').process(countTo(4, entered))
    if (kind === 'asyncTask') calls.asyncTask('direct:slow', { group: 'pool' })
    else calls.asyncTaskData('direct:slow', (ex) => ex.message.body, { group: 'pool' })
    r.from('direct:slow').routeId('slow').process(untilAborted)
  })
  await ctx.start()
  for (let i = 0; i < 4; i++) await ctx.producer().send('seda:calls', i)
  await entered.promise
  return { ctx, lines: logger.lines }
}

function reportOf(report: Awaited<ReturnType<IntegrationContext['stop']>>, id: string) {
  return report.routes.find((r) => r.id === id)
}

describe('graceful shutdown with async work', () => {
  it('waits for delayed and suspended exchanges before stopping, then stops gracefully', async () => {
    const ctx = newContext()
    const entered = deferred()
    await ctx.addRoutes((r) => {
      r.from('seda:in').routeId('in').process(countTo(3, entered)).delay(2000).asyncRoute('direct:resume', {
        delayMs: 3000,
      })
      r.from('direct:resume').routeId('resume').to('mock:resumed')
    })
    await ctx.start()
    for (let i = 0; i < 3; i++) await ctx.producer().send('seda:in', i)
    await entered.promise
    const stopped = ctx.stop()
    await vi.advanceTimersByTimeAsync(5000)
    const report = await stopped

    expect(report).toMatchObject({ graceful: true, forced: false, durationMs: 5000 })
    expect(reportOf(report, 'in')).toMatchObject({ inflightAtStart: 3, aborted: 0 })
    expect(ctx.mock('resumed').receivedExchanges).toHaveLength(3)
  })
})

describe('forced shutdown with async work', () => {
  it('drops queued asyncTaskData tasks, logging how many, and counts them aborted in report and metrics', async () => {
    const { ctx, lines } = await queuedTasks('asyncTaskData')
    const report = await ctx.forceStop()
    await ctx.inflight.whenEmpty()

    expect(
      lines.filter((l) => l.level === 'warn' && l.msg?.includes('queued async tasks')).map((l) => l.msg),
    ).toEqual(['Forced stop of calls dropped 3 queued async tasks from worker groups [pool]'])
    // 3 dropped from the queue + the running one aborted through its signal.
    expect(reportOf(report, 'calls')?.aborted).toBe(4)
    expect(await exchangesTotal(ctx, 'calls', 'aborted')).toBe(4)
    expect(await exchangesTotal(ctx, 'calls', 'failed')).toBe(0)
  })

  it('aborts queued asyncTask exchanges once each, in report and metrics', async () => {
    const { ctx, lines } = await queuedTasks('asyncTask')
    const report = await ctx.forceStop()
    await ctx.inflight.whenEmpty()

    // Aborting a queued exchange takes its task out of the queue at once: nothing is left for the forced stop
    // to drop, and nothing is counted twice.
    expect(lines.some((l) => l.msg?.includes('queued async tasks') === true)).toBe(false)
    expect(reportOf(report, 'calls')?.aborted).toBe(4)
    expect(await exchangesTotal(ctx, 'calls', 'aborted')).toBe(4)
    expect(ctx.routes().find((r) => r.id === 'calls')).toMatchObject({ inflight: 0, pending: 0 })
  })

  it('returns within the NOW budget and leaves no timer behind', async () => {
    const ctx = newContext({ workerGroups: { pool: { workers: 1 } } })
    const entered = deferred()
    await ctx.addRoutes((r) => {
      r.from('seda:in')
        .routeId('in')
        .process(countTo(10, entered))
        .choice((c) =>
          c
            .when(
              (ex) => (ex.message.body as number) < 4,
              (b) => b.delay(60_000),
            )
            .when(
              (ex) => (ex.message.body as number) < 7,
              (b) => b.asyncRoute('direct:slow', { delayMs: 20_000 }),
            )
            .otherwise((b) => b.asyncTask('direct:slow', { group: 'pool' })),
        )
      r.from('direct:slow').routeId('slow').process(untilAborted)
    })
    await ctx.start()
    for (let i = 0; i < 10; i++) await ctx.producer().send('seda:in', i)
    await entered.promise
    // 7, 8, 9 went to the one-worker pool: one runs, two wait for it and count as pending (SPEC §2.1).
    expect(ctx.inflight.size()).toBe(8)
    expect(ctx.routes().find((r) => r.id === 'in')?.pending).toBe(2)

    let done = false
    const stopping = ctx.forceStop().then((report) => {
      done = true
      return report
    })
    await vi.advanceTimersByTimeAsync(NOW_BUDGET_MS)

    expect(done).toBe(true)
    expect((await stopping).forced).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
    expect(ctx.inflight.size()).toBe(0)
  })

  it('escalates a graceful stop waiting on long delays at once, leaving no timer behind', async () => {
    const ctx = newContext()
    const entered = deferred()
    await ctx.addRoutes((r) => r.from('seda:in').routeId('in').process(countTo(5, entered)).delay(60_000))
    await ctx.start()
    for (let i = 0; i < 5; i++) await ctx.producer().send('seda:in', i)
    await entered.promise
    const graceful = ctx.stop()
    await vi.advanceTimersByTimeAsync(1000)
    const forced = ctx.forceStop()
    await vi.advanceTimersByTimeAsync(NOW_BUDGET_MS)
    const report = await forced

    expect(await graceful).toBe(report)
    expect(report).toMatchObject({ forced: true, graceful: false })
    expect(reportOf(report, 'in')?.aborted).toBe(5)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('async work after shutdown NOW', () => {
  const steps: Array<[string, (r: ReturnType<RouteDsl['from']>) => unknown]> = [
    ['delay', (b) => b.delay(10)],
    ['asyncRoute', (b) => b.asyncRoute('mock:late', { delayMs: 10 })],
    ['asyncTask', (b) => b.asyncTask('mock:late')],
    ['asyncTaskData', (b) => b.asyncTaskData('mock:late', () => 'data')],
    ['emitEvent', (b) => b.emitEvent('t', 'k', () => 'v')],
  ]

  it.each(steps)(
    'aborts an exchange that would still run %s after NOW (left by shutdownNowOnTimeout: false)',
    async (_name, step) => {
      const ctx = newContext({
        shutdownStrategy: new DefaultShutdownStrategy({ shutdownNowOnTimeout: false }),
      })
      const gate = deferred()
      const waiting = deferred()
      await ctx.addRoutes((r) => {
        const route = r
          .from('direct:in')
          .routeId('in')
          .process(async () => {
            waiting.resolve()
            await gate.promise
          })
        step(route)
      })
      await ctx.start()
      const sent = ctx.producer().send('direct:in', 1)
      await waiting.promise
      const stopped = ctx.stop({ timeoutMs: 1000 })
      await vi.advanceTimersByTimeAsync(1000)
      await stopped
      expect(ctx.shutdownLevel).toBe('shutdown')
      gate.resolve()
      const ex = await sent

      expect(isDromedaryError(ex.exception, 'DROMEDARY_ERR_ABORTED')).toBe(true)
      expect((await stopped).routes.find((r) => r.id === 'in')).toMatchObject({ forced: true, aborted: 1 })
      expect(ctx.mock('late').receivedExchanges).toHaveLength(0)
      expect(vi.getTimerCount()).toBe(0)
    },
  )
})
