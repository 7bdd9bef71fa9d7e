import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CoreErrorCodes } from '@dromedary/core'
import type { IntegrationContext } from '@dromedary/core'
import { disposeContexts, newContext } from '../support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

const fired = (ctx: IntegrationContext) => ctx.mock('ticks').receivedExchanges

async function timerRoute(uri: string, extra?: (ctx: IntegrationContext) => void) {
  const ctx = newContext()
  await ctx.addRoutes((r) => r.from(uri).routeId('t').to('mock:ticks'))
  extra?.(ctx)
  await ctx.start()
  return ctx
}

describe('timer:', () => {
  it('fires at once by default (delay=0), then every 1000 ms (period default)', async () => {
    const ctx = await timerRoute('timer:tick')
    await vi.advanceTimersByTimeAsync(0)
    expect(fired(ctx)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(999)
    expect(fired(ctx)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(fired(ctx)).toHaveLength(2)
  })

  it('waits delay before the first exchange', async () => {
    const ctx = await timerRoute('timer:tick?delay=500&period=100')
    await vi.advanceTimersByTimeAsync(499)
    expect(fired(ctx)).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(fired(ctx)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(fired(ctx)).toHaveLength(2)
  })

  it('stops after repeatCount exchanges', async () => {
    const ctx = await timerRoute('timer:tick?period=100&repeatCount=3')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fired(ctx)).toHaveLength(3)
  })

  it('fires forever with repeatCount=0', async () => {
    const ctx = await timerRoute('timer:tick?period=10&repeatCount=0')
    await vi.advanceTimersByTimeAsync(1000)
    expect(fired(ctx)).toHaveLength(101)
  })

  it('sets timer.name, timer.counter and timer.firedTime headers on a null body', async () => {
    const ctx = await timerRoute('timer:heartbeat?period=100&repeatCount=2')
    const t0 = Date.now()
    await vi.advanceTimersByTimeAsync(100)
    expect(fired(ctx).map((e) => e.message)).toEqual([
      { body: null, headers: { 'timer.name': 'heartbeat', 'timer.counter': 1, 'timer.firedTime': t0 } },
      { body: null, headers: { 'timer.name': 'heartbeat', 'timer.counter': 2, 'timer.firedTime': t0 + 100 } },
    ])
  })

  it('accepts durations with units', async () => {
    const ctx = await timerRoute('timer:tick?period=2s&repeatCount=2')
    await vi.advanceTimersByTimeAsync(1999)
    expect(fired(ctx)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(fired(ctx)).toHaveLength(2)
  })

  it('counts the period from the end of the previous exchange (fixed delay)', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('timer:slow?period=100&repeatCount=3').routeId('t').delay(50).to('mock:ticks'),
    )
    await ctx.start()
    const t0 = Date.now()
    await vi.advanceTimersByTimeAsync(1000)
    expect(fired(ctx).map((e) => e.message.headers['timer.firedTime'] as number)).toEqual([
      t0,
      t0 + 150,
      t0 + 300,
    ])
  })

  it('stops firing while suspended and fires again after resume', async () => {
    const ctx = await timerRoute('timer:tick?period=100')
    await vi.advanceTimersByTimeAsync(0)
    await ctx.suspendRoute('t')
    await vi.advanceTimersByTimeAsync(1000)
    expect(fired(ctx)).toHaveLength(1)
    await ctx.resumeRoute('t')
    await vi.advanceTimersByTimeAsync(100)
    expect(fired(ctx)).toHaveLength(2)
  })

  it('stops firing once its route is stopped', async () => {
    const ctx = await timerRoute('timer:tick?period=100')
    await vi.advanceTimersByTimeAsync(0)
    await ctx.stopRoute('t', { timeoutMs: 1000 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(fired(ctx)).toHaveLength(1)
  })

  it('does not fire for a route with autoStartup(false)', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('timer:tick?period=10').autoStartup(false).to('mock:ticks'))
    await ctx.start()
    await vi.advanceTimersByTimeAsync(100)
    expect(fired(ctx)).toHaveLength(0)
  })

  it('rejects a negative repeatCount', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('timer:x?repeatCount=-1'))).toThrow(
      expect.objectContaining({ code: CoreErrorCodes.INVALID_OPTION }),
    )
  })
})
