import { afterEach, describe, expect, it, vi } from 'vitest'
import type { IntegrationContext } from '@dromedary/core'
import { deferred, disposeContexts, flush, newContext } from '../support.js'
import type { Deferred } from '../support.js'

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

/** Routes `a` and `b` (seda, 5 consumers each) whose exchanges wait on a gate keyed by their body. */
async function gatedRoutes(): Promise<{ ctx: IntegrationContext; gate: (key: string) => Deferred<void> }> {
  const gates = new Map<string, Deferred<void>>()
  const gate = (key: string) => {
    let g = gates.get(key)
    if (g === undefined) gates.set(key, (g = deferred()))
    return g
  }
  const ctx = newContext()
  await ctx.addRoutes((r) => {
    r.from<string>('seda:a?concurrentConsumers=5')
      .routeId('a')
      .process((ex) => gate(ex.message.body).promise)
    r.from<string>('seda:b?concurrentConsumers=5')
      .routeId('b')
      .process((ex) => gate(ex.message.body).promise)
  })
  await ctx.start()
  return { ctx, gate }
}

describe('InflightRepository', () => {
  it('counts nothing when idle', async () => {
    const ctx = newContext()
    await ctx.start()
    expect(ctx.inflight.size()).toBe(0)
    expect(ctx.inflight.browse()).toEqual([])
    expect(ctx.inflight.oldest()).toBeUndefined()
  })

  it('counts exchanges in flight in total and per route', async () => {
    const { ctx, gate } = await gatedRoutes()
    await ctx.producer().send('seda:a', 'a1')
    await ctx.producer().send('seda:a', 'a2')
    await ctx.producer().send('seda:b', 'b1')
    await flush()
    expect(ctx.inflight.size()).toBe(3)
    expect(ctx.inflight.size('a')).toBe(2)
    expect(ctx.inflight.size('b')).toBe(1)
    expect(ctx.inflight.size('unknown')).toBe(0)
    gate('a1').resolve()
    await flush()
    expect(ctx.inflight.size('a')).toBe(1)
    for (const k of ['a2', 'b1']) gate(k).resolve()
    await ctx.inflight.whenEmpty()
    expect(ctx.inflight.size()).toBe(0)
  })

  it('browses exchange id, routes, node id, duration and time in the current step', async () => {
    vi.useFakeTimers()
    const { ctx, gate } = await gatedRoutes()
    await ctx.producer().send('seda:a', 'x')
    await vi.advanceTimersByTimeAsync(250)
    const [e] = ctx.inflight.browse()
    expect(e).toEqual({
      exchangeId: expect.any(String) as string,
      fromRouteId: 'a',
      atRouteId: 'a',
      nodeId: 'process1',
      durationMs: 250,
      elapsedMs: 250,
    })
    gate('x').resolve()
  })

  it('browses one route, with a limit, and longest-running first on request', async () => {
    vi.useFakeTimers()
    const { ctx, gate } = await gatedRoutes()
    await ctx.producer().send('seda:a', 'old')
    await vi.advanceTimersByTimeAsync(100)
    await ctx.producer().send('seda:b', 'other')
    await vi.advanceTimersByTimeAsync(100)
    await ctx.producer().send('seda:a', 'new')
    await vi.advanceTimersByTimeAsync(100)
    expect(ctx.inflight.browse({ routeId: 'a' }).map((e) => e.durationMs)).toEqual([300, 100])
    expect(ctx.inflight.browse({ limit: 2 }).map((e) => e.fromRouteId)).toEqual(['a', 'b'])
    expect(ctx.inflight.browse({ sortByLongestDuration: true }).map((e) => e.durationMs)).toEqual([
      300, 200, 100,
    ])
    for (const k of ['old', 'new', 'other']) gate(k).resolve()
  })

  it('oldest returns the longest-running exchange, per route when asked', async () => {
    vi.useFakeTimers()
    const { ctx, gate } = await gatedRoutes()
    await ctx.producer().send('seda:b', 'b-old')
    await vi.advanceTimersByTimeAsync(50)
    await ctx.producer().send('seda:a', 'a-old')
    await vi.advanceTimersByTimeAsync(50)
    await ctx.producer().send('seda:a', 'a-new')
    await vi.advanceTimersByTimeAsync(50)
    expect(ctx.inflight.oldest()).toMatchObject({ fromRouteId: 'b', durationMs: 150 })
    expect(ctx.inflight.oldest('a')).toMatchObject({ fromRouteId: 'a', durationMs: 100 })
    for (const k of ['b-old', 'a-old', 'a-new']) gate(k).resolve()
  })

  it('whenEmpty resolves at once when nothing is in flight', async () => {
    const ctx = newContext()
    await ctx.start()
    let resolved = false
    void ctx.inflight.whenEmpty().then(() => (resolved = true))
    await Promise.resolve()
    expect(resolved).toBe(true)
  })

  it('whenEmpty resolves when the last exchange completes, not before', async () => {
    const { ctx, gate } = await gatedRoutes()
    await ctx.producer().send('seda:a', '1')
    await ctx.producer().send('seda:b', '2')
    await flush()
    let resolved = false
    const empty = ctx.inflight.whenEmpty().then(() => (resolved = true))
    gate('1').resolve()
    await flush()
    expect(resolved).toBe(false)
    gate('2').resolve()
    await empty
    expect(ctx.inflight.size()).toBe(0)
  })

  it('whenEmpty(routeIds) only waits for those routes', async () => {
    const { ctx, gate } = await gatedRoutes()
    await ctx.producer().send('seda:a', 'a')
    await ctx.producer().send('seda:b', 'b')
    await flush()
    const aEmpty = ctx.inflight.whenEmpty(['a'])
    gate('a').resolve()
    await aEmpty
    expect(ctx.inflight.size('b')).toBe(1)
    gate('b').resolve()
  })

  it('counts an exchange inside a direct call in both routes but once in total, at the called route', async () => {
    const gate = deferred()
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('seda:outer').routeId('outer').to('direct:inner')
      r.from('direct:inner')
        .routeId('inner')
        .process(() => gate.promise)
    })
    await ctx.start()
    await ctx.producer().send('seda:outer', null)
    await flush()
    expect(ctx.inflight.size()).toBe(1)
    expect(ctx.inflight.size('outer')).toBe(1)
    expect(ctx.inflight.size('inner')).toBe(1)
    expect(ctx.inflight.browse({ routeId: 'inner' })).toMatchObject([
      { fromRouteId: 'outer', atRouteId: 'inner' },
    ])
    gate.resolve()
    await ctx.inflight.whenEmpty()
    expect(ctx.inflight.size('inner')).toBe(0)
  })

  it('keeps arrival order when exchanges finish first, last and in the middle', async () => {
    const { ctx, gate } = await gatedRoutes()
    for (const k of ['1', '2', '3', '4', '5']) await ctx.producer().send('seda:a', k)
    await flush()
    const ids = ctx.inflight.browse().map((e) => e.exchangeId)
    expect(ids).toHaveLength(5)
    expect(new Set(ids).size).toBe(5)
    for (const k of ['3', '1', '5']) gate(k).resolve()
    await flush()
    expect(ctx.inflight.browse().map((e) => e.exchangeId)).toEqual([ids[1], ids[3]])
    expect(ctx.inflight.oldest()?.exchangeId).toBe(ids[1])
    expect(ctx.inflight.size()).toBe(2)
    await ctx.producer().send('seda:b', '6')
    await flush()
    const [, , newest] = ctx.inflight.browse().map((e) => e.exchangeId)
    expect(newest).not.toBeUndefined()
    for (const k of ['2', '4']) gate(k).resolve()
    await flush()
    expect(ctx.inflight.browse().map((e) => e.exchangeId)).toEqual([newest])
    gate('6').resolve()
    await ctx.inflight.whenEmpty()
    expect(ctx.inflight.size()).toBe(0)
    expect(ctx.inflight.browse()).toEqual([])
  })

  it('forgets an exchange that failed', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .process(async () => {
          await flush()
          throw new Error('x')
        }),
    )
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(ctx.inflight.size('a')).toBe(0)
    expect(ctx.inflight.browse()).toEqual([])
  })
})
