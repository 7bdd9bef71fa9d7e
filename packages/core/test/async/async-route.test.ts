import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { captureLogger, disposeContexts, newContext } from '../support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  await disposeContexts()
  vi.useRealTimers()
})

/** `request` marks the body, suspends for 250 ms and resumes in `resume`; `mock:after` must never be reached. */
async function resumeContext(options: { failResume?: boolean } = {}) {
  const ctx = newContext()
  await ctx.addRoutes((r) => {
    r.from('direct:request')
      .routeId('request')
      .setHeader('seen', 'request')
      .asyncRoute('direct:resume', { delayMs: 250 })
      .to('mock:after')
    r.from('direct:resume')
      .routeId('resume')
      .process(() => {
        if (options.failResume === true) throw new Error('404 Not found')
      })
      .to('mock:resumed')
  })
  await ctx.start()
  return ctx
}

describe('asyncRoute (Kamailio async_route / async_ms_route)', () => {
  it('continues the exchange in the target route only once the delay is over', async () => {
    const ctx = await resumeContext()
    const sent = ctx.producer().send('direct:request', 'INVITE')

    await vi.advanceTimersByTimeAsync(249)
    expect(ctx.mock('resumed').receivedExchanges).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    const ex = await sent
    expect(ctx.mock('resumed').receivedExchanges.map((e) => e.id)).toEqual([ex.id])
    expect(ex.message.headers['seen']).toBe('request')
  })

  it('skips the steps that follow asyncRoute in the suspending route', async () => {
    const ctx = await resumeContext()
    const sent = ctx.producer().send('direct:request', 'INVITE')
    await vi.advanceTimersByTimeAsync(250)
    await sent

    expect(ctx.mock('resumed').receivedExchanges).toHaveLength(1)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('keeps the suspended exchange in flight with the asyncRoute step as its nodeId', async () => {
    const ctx = await resumeContext()
    void ctx.producer().send('direct:request', 'INVITE')
    await vi.advanceTimersByTimeAsync(100)

    expect(ctx.inflight.browse()).toMatchObject([
      { atRouteId: 'request', nodeId: 'asyncRoute2', elapsedMs: 100 },
    ])
    expect(ctx.routes().find((r) => r.id === 'request')?.inflight).toBe(1)
  })

  it('fails the exchange with the target route’s error when the resumed route fails', async () => {
    const ctx = await resumeContext({ failResume: true })
    const sent = ctx.producer().send('direct:request', 'INVITE')
    await vi.advanceTimersByTimeAsync(250)
    const ex = await sent

    expect(ex.exception).toBeInstanceOf(Error)
    expect((ex.exception as Error).message).toBe('404 Not found')
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('warns once when delayMs exceeds the 30 000 ms Kamailio maximum', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => {
      r.from('direct:a').routeId('a').asyncRoute('direct:b', { delayMs: 60_000 })
      r.from('direct:b').routeId('b').to('mock:b')
    })
    await ctx.start()

    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      "Route a: asyncRoute of 60000 ms at asyncRoute1 exceeds Kamailio's 30000 ms maximum; allowed, but a graceful shutdown waits for it",
    ])
  })
})
