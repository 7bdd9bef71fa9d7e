import { createContext, isDromedaryError, type IntegrationContext } from '@dromedary/core'
import { headers as natsHeaders } from '@nats-io/transport-node'
import { beforeEach, describe, expect, it } from 'vitest'
import { counter } from '../../../test/support/observe.js'
import { NatsErrorCodes, natsComponent } from '../src/index.js'
import { NATS_SERVER, useNats, type NatsOracle } from './support/server.js'

const suite = useNats()
let nats: NatsOracle
beforeEach(() => {
  nats = suite.nats
})

function context(): IntegrationContext {
  const ctx = createContext({ logger: false })
  ctx.addComponent('nats', natsComponent({ servers: NATS_SERVER }))
  return suite.track(ctx)
}

describe('nats producer', () => {
  it('publishes to a stream with the safe headers and a content type', async () => {
    const stream = await nats.stream('pub')
    const ctx = context()
    await ctx.addRoutes((r) => r.from('direct:in').to(`nats:subject:${stream}.created`))
    await ctx.start()
    await ctx.producer().send(
      'direct:in',
      { id: 7 },
      {
        tenant: 'acme',
        baggage: 'k=v',
        attempt: 2,
        authorization: 'Bearer secret',
        'amqp.routingKey': 'x',
        'nats.stream': 'other',
        'Nats-Expected-Stream': 'forged',
        'bad name': 'x',
        injected: 'a\r\nNats-Rollup: all',
      },
    )
    await ctx.stop()
    const [m] = await nats.read(stream)
    expect(JSON.parse(m!.data)).toEqual({ id: 7 })
    expect(m!.subject).toBe(`${stream}.created`)
    const { 'Nats-Msg-Id': msgId, ...rest } = m!.headers
    expect(msgId).toMatch(/.+/)
    expect(rest).toEqual({ tenant: 'acme', baggage: 'k=v', attempt: '2', 'Content-Type': 'application/json' })
    expect(
      await counter(ctx, 'dromedary_nats_published_total', {
        subject: `${stream}.created`,
        outcome: 'acked',
      }),
    ).toBe(1)
  })

  it('sends nats.msgId as Nats-Msg-Id, so the stream drops a second publish of the same message', async () => {
    const stream = await nats.stream('dedupe')
    const ctx = context()
    await ctx.addRoutes((r) => r.from('direct:in').to(`nats:subject:${stream}.x`))
    await ctx.start()
    for (let i = 0; i < 3; i++) await ctx.producer().send('direct:in', { i }, { 'nats.msgId': 'order-42' })
    await ctx.producer().send('direct:in', { other: true }, { 'nats.msgId': 'order-43' })
    await ctx.stop()
    expect(await nats.count(stream)).toBe(2)
    const [first] = await nats.read(stream)
    expect(JSON.parse(first!.data)).toEqual({ i: 0 })
    expect(
      await counter(ctx, 'dromedary_nats_published_total', { subject: `${stream}.x`, outcome: 'duplicate' }),
    ).toBe(2)
  })

  it('relays a consumed message with its own message id (a redelivered relay is deduplicated)', async () => {
    const source = await nats.stream('relayin')
    const target = await nats.stream('relayout')
    await nats.publish(`${source}.a`, [{ n: 1 }], { headers: { 'Nats-Msg-Id': 'src-1' } })
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`nats:stream:${source}?consumer=relay`).to(`nats:subject:${target}.b`))
    await ctx.start()
    await expect.poll(() => nats.count(target), { timeout: 5000 }).toBe(1)
    await ctx.producer().send(`nats:subject:${target}.b`, { n: 1 }, { 'nats.msgId': 'src-1' })
    await ctx.stop()
    expect(await nats.count(target)).toBe(1)
    expect((await nats.read(target))[0]!.headers['Nats-Msg-Id']).toBe('src-1')
  })

  it('fails the exchange with DROMEDARY_ERR_NATS_PUBLISH_FAILED when no stream captures the subject', async () => {
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from('direct:in').to(`nats:subject:${nats.name('nowhere')}.x?timeoutMs=2000`),
    )
    await ctx.start()
    const err = await ctx
      .producer()
      .send('direct:in', { x: 1 })
      .then((ex) => ex.exception)
      .catch((e: unknown) => e)
    await ctx.stop()
    expect(isDromedaryError(err, NatsErrorCodes.PUBLISH_FAILED)).toBe(true)
  })

  it('request/reply: the reply becomes the body and its headers are added', async () => {
    const subject = nats.name('rpc')
    const sub = nats.nc.subscribe(subject, {
      callback: (_err, m) => {
        const h = natsHeaders()
        h.set('Content-Type', 'application/json')
        h.set('served-by', 'oracle')
        h.set('http.status', '500')
        m.respond(JSON.stringify({ echo: m.json(), tenant: m.headers?.get('tenant') }), { headers: h })
      },
    })
    await nats.nc.flush()
    const ctx = context()
    await ctx.addRoutes((r) => r.from('direct:in').to(`nats:request:${subject}?timeoutMs=3000`))
    await ctx.start()
    const reply = await ctx.producer().request('direct:in', { q: 1 }, { tenant: 'acme' })
    const ex = await ctx.producer().send('direct:in', { q: 2 })
    await ctx.stop()
    sub.unsubscribe()
    expect(reply).toEqual({ echo: { q: 1 }, tenant: 'acme' })
    expect(ex.message.headers['served-by']).toBe('oracle')
    expect(ex.message.headers).not.toHaveProperty('http.status')
  })

  it('request/reply fails with DROMEDARY_ERR_NATS_REQUEST_FAILED when nobody answers', async () => {
    const ctx = context()
    await ctx.addRoutes((r) => r.from('direct:in').to(`nats:request:${nats.name('nobody')}?timeoutMs=500`))
    await ctx.start()
    const ex = await ctx.producer().send('direct:in', { q: 1 })
    await ctx.stop()
    expect(isDromedaryError(ex.exception, NatsErrorCodes.REQUEST_FAILED)).toBe(true)
  })
})
