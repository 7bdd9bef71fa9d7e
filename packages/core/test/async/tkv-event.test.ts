import { afterEach, describe, expect, it } from 'vitest'
import { deferred, disposeContexts, newContext } from '../support.js'

afterEach(disposeContexts)

describe('emitEvent and event:tkv (Kamailio async_tkv_emit / event_route[core:tkv])', () => {
  it('delivers type, key and value to the route consuming event:tkv', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:invite')
        .routeId('invite')
        .emitEvent('8000', 'call', (ex) => `caller='${String(ex.message.headers['from'])}';callee='bob'`)
        .to('mock:relayed')
      r.from('event:tkv').routeId('tkv').to('mock:events')
    })
    await ctx.start()
    await ctx.producer().send('direct:invite', 'INVITE', { from: 'alice' })
    await ctx.mock('events').expectedMessageCount(1).assertIsSatisfied()

    const [event] = ctx.mock('events').receivedExchanges
    expect(event?.message.headers).toEqual({ 'tkv.type': '8000', 'tkv.key': 'call' })
    expect(event?.message.body).toBe("caller='alice';callee='bob'")
    expect(event?.fromRouteId).toBe('tkv')
  })

  it('continues the emitting route after the event: emitting does not end the exchange', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:invite')
        .routeId('invite')
        .emitEvent('8000', 'call', () => 'v')
        .to('mock:relayed')
    })
    await ctx.start()
    const ex = await ctx.producer().send('direct:invite', 'INVITE')

    expect(ctx.mock('relayed').receivedExchanges.map((e) => e.id)).toEqual([ex.id])
  })

  it('still delivers events emitted by exchanges that drain during a graceful stop', async () => {
    const ctx = newContext()
    const gate = deferred()
    const waiting = deferred()
    await ctx.addRoutes((r) => {
      r.from('direct:invite')
        .routeId('invite')
        .process(async () => {
          waiting.resolve()
          await gate.promise
        })
        .emitEvent('8000', 'bye', () => 'late')
      r.from('event:tkv').routeId('tkv').to('mock:events')
    })
    await ctx.start()
    const sent = ctx.producer().send('direct:invite', 'BYE')
    await waiting.promise
    const stopped = ctx.stop()
    gate.resolve()
    await sent
    const report = await stopped

    expect(report.graceful).toBe(true)
    expect(ctx.mock('events').receivedExchanges.map((e) => e.message.body)).toEqual(['late'])
  })
})
