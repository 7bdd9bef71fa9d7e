// A route's status tells the truth about its consumer, through every control path and every interleaving of
// them with the context's own shutdown.
import type { IntegrationContext } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { captureLogger, disposeContexts, metricValue, newContext } from '../support.js'
import { flush } from '../shutdown/support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

function route(ctx: IntegrationContext, id: string) {
  return ctx.routes().find((r) => r.id === id)!
}

const dropped = (ctx: IntegrationContext, endpoint: string) =>
  metricValue(ctx, 'dromedary_messages_dropped_total', { context: ctx.name, endpoint })

describe('messages waiting for a route that is not running', () => {
  it('are dropped, logged and counted when the context stops after their seda route was stopped', async () => {
    const log = captureLogger()
    const ctx = newContext({ logger: log.logger })
    await ctx.addRoutes((r) => r.from('seda:orders').routeId('orders').to('mock:orders'))
    await ctx.start()
    expect(await ctx.stopRoute('orders')).toBe(true)
    // The queue outlives its consumer (Camel): the sends are accepted and wait.
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
