import { Registry, register as globalRegistry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import { deferred, disposeContexts, flush, metricValue, newContext } from '../support.js'

afterEach(disposeContexts)

async function text(ctx: ReturnType<typeof newContext>): Promise<string> {
  const registry = ctx.metrics
  if (registry === undefined) throw new Error('metrics are off')
  return registry.metrics()
}

describe('context metrics', () => {
  it('shows completed and failed counts per route in the Prometheus text', async () => {
    const ctx = newContext({ name: 'shop' })
    await ctx.addRoutes((r) => {
      r.from<number>('direct:orders')
        .routeId('orders')
        .process((ex) => {
          if (ex.message.body < 0) throw new Error('negative')
        })
      r.from('direct:ship').routeId('ship')
    })
    await ctx.start()
    for (const n of [1, 2, -1, 3, -2]) await ctx.producer().send('direct:orders', n)
    await ctx.producer().send('direct:ship', null)
    const t = await text(ctx)
    expect(t).toContain('dromedary_exchanges_total{context="shop",route="orders",outcome="completed"} 3')
    expect(t).toContain('dromedary_exchanges_total{context="shop",route="orders",outcome="failed"} 2')
    expect(t).toContain('dromedary_exchanges_total{context="shop",route="ship",outcome="completed"} 1')
    expect(t).toContain('dromedary_exchanges_total{context="shop",route="ship",outcome="failed"} 0')
  })

  it('has every per-route series, zeroed, as soon as the routes started', async () => {
    const ctx = newContext({ name: 'c' })
    await ctx.addRoutes((r) => r.from('seda:q').routeId('q'))
    await ctx.start()
    const t = await text(ctx)
    for (const outcome of ['completed', 'failed', 'aborted'])
      expect(t).toContain(`dromedary_exchanges_total{context="c",route="q",outcome="${outcome}"} 0`)
    expect(t).toContain('dromedary_exchanges_inflight{context="c",route="q"} 0')
    expect(t).toContain('dromedary_exchanges_pending{context="c",route="q"} 0')
    expect(t).toContain('dromedary_exchange_duration_seconds_count{context="c",route="q"} 0')
    expect(t).toContain('dromedary_route_up{context="c",route="q"} 1')
  })

  it('reports route_up 0 for a route that is not started and 1 once it is', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').autoStartup(false))
    await ctx.start()
    const up = () => metricValue(ctx, 'dromedary_route_up', { route: 'a' })
    expect(await up()).toBe(0)
    await ctx.startRoute('a')
    expect(await up()).toBe(1)
    await ctx.suspendRoute('a')
    expect(await up()).toBe(0)
  })

  it('samples in-flight and pending exchanges per route at scrape time', async () => {
    const gate = deferred()
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:q')
        .routeId('q')
        .process(() => gate.promise),
    )
    await ctx.start()
    for (let i = 0; i < 4; i++) await ctx.producer().send('seda:q', i)
    await flush()
    expect(await metricValue(ctx, 'dromedary_exchanges_inflight', { route: 'q' })).toBe(1)
    expect(await metricValue(ctx, 'dromedary_exchanges_pending', { route: 'q' })).toBe(3)
    gate.resolve()
    await ctx.stop()
    expect(await metricValue(ctx, 'dromedary_exchanges_inflight', { route: 'q' })).toBe(0)
  })

  it('observes one duration per finished exchange', async () => {
    const ctx = newContext({ name: 'c' })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a'))
    await ctx.start()
    for (let i = 0; i < 3; i++) await ctx.producer().send('direct:a', i)
    expect(await text(ctx)).toContain('dromedary_exchange_duration_seconds_count{context="c",route="a"} 3')
  })

  it('reports the shutdown level: 0 while running, 2 once stopped', async () => {
    const ctx = newContext({ name: 'c' })
    await ctx.start()
    expect(await metricValue(ctx, 'dromedary_shutdown_level', { context: 'c' })).toBe(0)
    await ctx.stop()
    expect(await metricValue(ctx, 'dromedary_shutdown_level', { context: 'c' })).toBe(2)
    expect(await metricValue(ctx, 'dromedary_shutdown_forced_total', { context: 'c' })).toBe(0)
  })

  it('never registers into the prom-client global registry', async () => {
    const before = (await globalRegistry.getMetricsAsJSON()).map((m) => m.name)
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a'))
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    const after = (await globalRegistry.getMetricsAsJSON()).map((m) => m.name)
    expect(after).toEqual(before)
    expect(after.some((n) => n.startsWith('dromedary_'))).toBe(false)
    expect(ctx.metrics).not.toBe(globalRegistry)
  })

  it('gives every context its own registry, so two contexts coexist', async () => {
    const one = newContext({ name: 'one' })
    const two = newContext({ name: 'two' })
    expect(one.metrics).toBeInstanceOf(Registry)
    expect(one.metrics).not.toBe(two.metrics)
    for (const ctx of [one, two]) await ctx.addRoutes((r) => r.from('direct:a').routeId('a'))
    await Promise.all([one.start(), two.start()])
    await one.producer().send('direct:a', null)
    expect(await text(two)).toContain(
      'dromedary_exchanges_total{context="two",route="a",outcome="completed"} 0',
    )
  })

  it('registers into the registry it is given, with the prefix it is given', async () => {
    const registry = new Registry()
    const ctx = newContext({ name: 'c', metrics: { registry, prefix: 'app_' } })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a'))
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(ctx.metrics).toBe(registry)
    const t = await registry.metrics()
    expect(t).toContain('app_exchanges_total{context="c",route="a",outcome="completed"} 1')
    expect(t).not.toContain('dromedary_')
  })

  it('rejects a prefix that is not a Prometheus name with DROMEDARY_ERR_INVALID_OPTION', () => {
    for (const prefix of ['1abc', 'app-', 'a b']) {
      let err: unknown
      try {
        newContext({ metrics: { prefix } })
      } catch (e) {
        err = e
      }
      expect(isDromedaryError(err, CoreErrorCodes.INVALID_OPTION)).toBe(true)
      expect((err as Error).message).toContain(`"metrics.prefix" has value "${prefix}"`)
    }
  })

  it('can be turned off, leaving metrics undefined and routes working', async () => {
    const ctx = newContext({ metrics: false })
    await ctx.addRoutes((r) => r.from('direct:a').setBody('ok'))
    await ctx.start()
    expect(ctx.metrics).toBeUndefined()
    await expect(ctx.producer().request('direct:a', null)).resolves.toBe('ok')
  })
})

describe('a registry shared by several contexts', () => {
  it('registers the metrics once; each context writes its own series; a stopped one leaves none behind', async () => {
    const registry = new Registry()
    const one = newContext({ name: 'one', metrics: { registry } })
    const two = newContext({ name: 'two', metrics: { registry } })
    for (const ctx of [one, two]) await ctx.addRoutes((r) => r.from('direct:a').routeId('a').to('seda:gone'))
    await Promise.all([one.start(), two.start()])
    await one.producer().send('direct:a', null)
    await two.producer().send('direct:a', null)
    await two.producer().send('direct:a', null)
    let t = await registry.metrics()
    expect(t).toContain('dromedary_exchanges_total{context="one",route="a",outcome="completed"} 1')
    expect(t).toContain('dromedary_exchanges_total{context="two",route="a",outcome="completed"} 2')
    expect(t).toContain('dromedary_exchange_duration_seconds_count{context="two",route="a"} 2')
    await one.stop()
    t = await registry.metrics()
    expect(t).not.toContain('context="one"')
    expect(t).toContain('dromedary_exchanges_total{context="two",route="a",outcome="completed"} 2')
    expect(t).toContain('dromedary_route_up{context="two",route="a"} 1')
  })
})
