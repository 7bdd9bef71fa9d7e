import { isDromedaryError } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { captureLogger, deferred, disposeContexts, newContext } from '../support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  await disposeContexts()
  vi.useRealTimers()
})

/** A seda route with one consumer that delays every exchange; `entered` resolves once `n` reached the delay. */
async function delayedSedaRoute(n: number, delayMs: number) {
  const ctx = newContext()
  const entered = deferred()
  let seen = 0
  await ctx.addRoutes((r) =>
    r
      .from('seda:shape?concurrentConsumers=1')
      .routeId('shaper')
      .process(() => {
        if (++seen === n) entered.resolve()
      })
      .delay(delayMs)
      .to('mock:out'),
  )
  await ctx.start()
  for (let i = 0; i < n; i++) await ctx.producer().send('seda:shape', i)
  await entered.promise
  return ctx
}

describe('delay (Kamailio async_ms_sleep)', () => {
  it('does not block a single-consumer seda route: 10 delayed exchanges are in flight at once', async () => {
    const ctx = await delayedSedaRoute(10, 1000)

    expect(ctx.inflight.size('shaper')).toBe(10)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(0)
  })

  it('continues every delayed exchange with the next step once its delay is over', async () => {
    const ctx = await delayedSedaRoute(10, 1000)

    await vi.advanceTimersByTimeAsync(999)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(ctx.mock('out').receivedExchanges.map((e) => e.message.body)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ])
    expect(ctx.inflight.size('shaper')).toBe(0)
  })

  it('shows the delay step as the nodeId of a waiting exchange in inflight.browse()', async () => {
    const ctx = await delayedSedaRoute(3, 1000)
    await vi.advanceTimersByTimeAsync(400)

    const waiting = ctx.inflight.browse({ routeId: 'shaper' })
    expect(waiting.map((e) => e.nodeId)).toEqual(['delay2', 'delay2', 'delay2'])
    expect(waiting[0]?.elapsedMs).toBe(400)
  })

  it('waits a per-exchange delay computed by a function and skips the wait when it is zero', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:shape')
        .routeId('shaper')
        .delay((ex) => ex.message.body as number)
        .to('mock:out'),
    )
    await ctx.start()
    const now = await ctx.producer().send('direct:shape', 0)
    expect(ctx.mock('out').receivedExchanges.map((e) => e.id)).toEqual([now.id])

    const later = ctx.producer().send('direct:shape', 250)
    await vi.advanceTimersByTimeAsync(249)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(ctx.mock('out').receivedExchanges[1]?.id).toBe((await later).id)
  })

  it('warns once per step when a delay exceeds the 30 000 ms Kamailio maximum, and still allows it', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => {
      r.from('direct:long').routeId('long').delay(45_000).to('mock:long')
      r.from('direct:ok').routeId('ok').delay(30_000).to('mock:ok')
    })
    await ctx.start()
    const a = ctx.producer().send('direct:long', 'a')
    const b = ctx.producer().send('direct:long', 'b')
    await vi.advanceTimersByTimeAsync(45_000)
    await Promise.all([a, b])

    const warnings = lines.filter((l) => l.level === 'warn' && l.msg?.includes('30000 ms maximum'))
    expect(warnings.map((l) => l.msg)).toEqual([
      "Route long: delay of 45000 ms at delay1 exceeds Kamailio's 30000 ms maximum; allowed, but a graceful shutdown waits for it",
    ])
    expect(ctx.mock('long').receivedExchanges).toHaveLength(2)
  })

  it('rejects a negative delay at addRoutes with DROMEDARY_ERR_INVALID_ROUTE', () => {
    const ctx = newContext()
    let caught: unknown
    try {
      void ctx.addRoutes((r) => r.from('direct:bad').routeId('bad').delay(-5).to('mock:bad'))
    } catch (err) {
      caught = err
    }
    expect(isDromedaryError(caught, 'DROMEDARY_ERR_INVALID_ROUTE')).toBe(true)
  })
})
