// The engine's run loop: synchronous routes cost no promise; node ids; async continuations stay in flight.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Exchange } from '@dromedary/core'
import { deferred, disposeContexts, exchangesTotal, flush, hostComponent, newContext } from '../support.js'

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

describe('synchronous routes', () => {
  it('completes a route of synchronous steps without returning a promise to its consumer', async () => {
    const rec = hostComponent()
    const ctx = newContext({ components: { host: rec.component } })
    await ctx.addRoutes((r) => {
      r.from<{ n: number }>('host:in')
        .routeId('sync')
        .process((ex) => {
          ex.message.headers.p = 1
        })
        .transform((ex) => ({ n: ex.message.body.n + 1 }))
        .setHeader('h', 'v')
        .removeHeader('p')
        .filter(() => true)
        .choice((c) =>
          c
            .when(
              () => true,
              (b) => b.setHeader('chosen', true),
            )
            .otherwise((b) => b.log('never')),
        )
        .marshal('json')
        .unmarshal('json')
        .to('direct:sub')
        .toD(() => 'mock:dyn')
        .split(
          () => [1, 2],
          (b) => b.to('mock:part'),
        )
        .multicast(['mock:m1', 'direct:sub'])
        .wireTap('mock:tap')
        .log('sync ${body}')
        .to('mock:out')
      r.from('direct:sub').routeId('sub').setHeader('sub', true)
    })
    await ctx.start()
    const host = rec.hosts.get('sync')!
    const ex = host.createExchange({ n: 1 })
    expect(host.process(ex)).toBeUndefined()
    expect(ex.exception).toBeUndefined()
    expect(ex.message).toEqual({ body: { n: 2 }, headers: { h: 'v', chosen: true, sub: true } })
    expect(ctx.mock('out').receivedExchanges).toHaveLength(1)
    expect(ctx.mock('part').receivedExchanges).toHaveLength(2)
    expect(ctx.mock('m1').receivedExchanges).toHaveLength(1)
    expect(ctx.inflight.size()).toBe(0)
    expect(await exchangesTotal(ctx, 'sync', 'completed')).toBe(1)
  })

  it('returns no promise for a synchronous failure either, leaving the exception on the exchange', async () => {
    const rec = hostComponent()
    const ctx = newContext({ components: { host: rec.component } })
    await ctx.addRoutes((r) =>
      r
        .from('host:in')
        .routeId('sync')
        .process(() => {
          throw new Error('sync failure')
        }),
    )
    await ctx.start()
    const host = rec.hosts.get('sync')!
    const ex = host.createExchange(null)
    expect(host.process(ex)).toBeUndefined()
    expect((ex.exception as Error).message).toBe('sync failure')
    expect(await exchangesTotal(ctx, 'sync', 'failed')).toBe(1)
  })

  it('returns a promise once a step goes asynchronous, and the exchange is in flight until it settles', async () => {
    const rec = hostComponent()
    const gate = deferred()
    const ctx = newContext({ components: { host: rec.component } })
    await ctx.addRoutes((r) =>
      r
        .from('host:in')
        .routeId('async')
        .process(() => gate.promise)
        .setBody('done'),
    )
    await ctx.start()
    const host = rec.hosts.get('async')!
    const ex = host.createExchange('start')
    const result = host.process(ex)
    expect(result).toBeInstanceOf(Promise)
    expect(ctx.inflight.size('async')).toBe(1)
    gate.resolve()
    await result
    expect(ex.message.body).toBe('done')
    expect(ctx.inflight.size('async')).toBe(0)
  })

  it('never rejects the promise it returns: an async failure ends up on the exchange', async () => {
    const rec = hostComponent()
    const ctx = newContext({ components: { host: rec.component } })
    await ctx.addRoutes((r) =>
      r
        .from('host:in')
        .routeId('async')
        .process(async () => {
          await flush()
          throw new Error('async failure')
        }),
    )
    await ctx.start()
    const host = rec.hosts.get('async')!
    const ex = host.createExchange(null)
    await expect(host.process(ex)).resolves.toBeUndefined()
    expect((ex.exception as Error).message).toBe('async failure')
  })

  it('gives the consumer exchanges stamped with its route and endpoint', async () => {
    const rec = hostComponent()
    const ctx = newContext({ components: { host: rec.component } })
    await ctx.addRoutes((r) => r.from('host:x').routeId('stamp'))
    await ctx.start()
    const ex: Exchange<number> = rec.hosts.get('stamp')!.createExchange(5, { h: 1 })
    expect(ex).toMatchObject({
      fromRouteId: 'stamp',
      fromUri: 'host:x',
      message: { body: 5, headers: { h: 1 } },
    })
    expect(typeof ex.id).toBe('string')
    expect(ex.createdAt).toBeLessThanOrEqual(Date.now())
    expect(ex.signal.aborted).toBe(false)
  })
})

describe('node ids', () => {
  it('numbers steps per route by kind and position (process1, to2, …)', async () => {
    const gates = [deferred(), deferred()]
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:in')
        .routeId('r')
        .process(() => gates[0]!.promise)
        .to('mock:x')
        .setBody(() => gates[1]!.promise),
    )
    await ctx.start()
    await ctx.producer().send('seda:in', null)
    await flush()
    expect(ctx.inflight.browse().map((e) => e.nodeId)).toEqual(['process1'])
    gates[0]!.resolve()
    await flush()
    expect(ctx.inflight.browse().map((e) => e.nodeId)).toEqual(['setBody3'])
    gates[1]!.resolve()
    await ctx.inflight.whenEmpty()
  })

  it('numbers the steps inside choice and split branches in the same sequence', async () => {
    const gate = deferred()
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:in')
        .routeId('r')
        .to('mock:x')
        .choice((c) =>
          c
            .when(
              () => false,
              (b) => b.log('x'),
            )
            .otherwise((b) => b.to('mock:y')),
        )
        .split(
          () => [1],
          (b) => b.to('mock:z'),
        )
        .process(() => gate.promise),
    )
    await ctx.start()
    await ctx.producer().send('seda:in', null)
    await flush()
    // to1, choice2 (log3, to4), split5 (to6), process7
    expect(ctx.inflight.browse()[0]?.nodeId).toBe('process7')
    gate.resolve()
    await ctx.inflight.whenEmpty()
  })

  it('shows the waiting step with the time spent in it (elapsedMs) and in the exchange (durationMs)', async () => {
    vi.useFakeTimers()
    const ctx = newContext()
    const gate = deferred()
    await ctx.addRoutes((r) =>
      r
        .from('seda:in')
        .routeId('r')
        .delay(300)
        .process(() => gate.promise),
    )
    await ctx.start()
    await ctx.producer().send('seda:in', null)
    await vi.advanceTimersByTimeAsync(100)
    expect(ctx.inflight.browse()).toMatchObject([{ nodeId: 'delay1', elapsedMs: 100, durationMs: 100 }])
    await vi.advanceTimersByTimeAsync(200)
    await vi.advanceTimersByTimeAsync(50)
    expect(ctx.inflight.browse()).toMatchObject([{ nodeId: 'process2', elapsedMs: 50, durationMs: 350 }])
    gate.resolve()
    await vi.advanceTimersByTimeAsync(0)
    expect(ctx.inflight.size()).toBe(0)
  })

  it('reports the step of the called route while the exchange waits inside a direct call', async () => {
    const gate = deferred()
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('seda:in').routeId('outer').to('mock:x').to('direct:inner')
      r.from('direct:inner')
        .routeId('inner')
        .setHeader('h', 1)
        .process(() => gate.promise)
    })
    await ctx.start()
    await ctx.producer().send('seda:in', null)
    await flush()
    expect(ctx.inflight.browse()).toMatchObject([
      { fromRouteId: 'outer', atRouteId: 'inner', nodeId: 'process2' },
    ])
    gate.resolve()
    await ctx.inflight.whenEmpty()
  })
})
