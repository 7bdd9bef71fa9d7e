/**
 * Header hygiene against the real broker: what a route consumed must not steer the next hop (a bridged CC,
 * a quorum delivery count, an `http.method`), and an HTTP-like header set must not leave credentials in a
 * queue.
 */
import { createContext, type Exchange, type IntegrationContext } from '@dromedary/core'
import type { HeaderFilter } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { amqpComponent, defaultAmqpHeaderFilter } from '../src/index.js'
import { BROKER_URL, deferred, useBroker, type Broker } from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

function context(headerFilter?: HeaderFilter): IntegrationContext {
  const ctx = createContext({ logger: false })
  ctx.addComponent(
    'amqp',
    amqpComponent(headerFilter === undefined ? { url: BROKER_URL } : { url: BROKER_URL, headerFilter }),
  )
  suite.track(ctx)
  return ctx
}

/** Consumes one message from `queue` in a fresh context and returns the exchange headers it got. */
async function headersOfOne(queue: string, headerFilter?: HeaderFilter): Promise<Record<string, unknown>> {
  const ctx = context(headerFilter)
  await ctx.addRoutes((r) => r.from(`amqp:queue:${queue}`).to('mock:out'))
  const out = ctx.mock('out').expectedMessageCount(1)
  await ctx.start()
  await out.assertIsSatisfied({ timeoutMs: 5000 })
  await ctx.stop()
  return (out.receivedExchanges[0] as Exchange).message.headers
}

describe('amqp headers across a queue-to-queue bridge', () => {
  it('does not republish a consumed CC header, so the CC queue gets the message once', async () => {
    const [source, target, copies] = await Promise.all([
      broker.queue('cc-source'),
      broker.queue('cc-target'),
      broker.queue('cc-copies'),
    ])
    // The original publish is routed to `source` and, by its CC header, to `copies` (once, correctly).
    await broker.publish(source, [{ body: 'order', contentType: 'text/plain', headers: { CC: [copies] } }])
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`amqp:queue:${source}`).to(`amqp:queue:${target}`))
    await ctx.start()
    const bridged = await broker.nextMessage(target)
    await ctx.stop()

    expect(bridged.properties.headers?.CC).toBeUndefined()
    expect(await broker.messageCount(copies)).toBe(1)
  })

  it('does not copy a quorum queue delivery count onto the next queue', async () => {
    const source = await broker.queue('quorum-source', { 'x-queue-type': 'quorum' })
    const target = await broker.queue('quorum-target')
    await broker.publish(source, [{ body: 'again', contentType: 'text/plain', messageId: 'q-1' }])
    // Deliver it once and hand it back, so the quorum queue counts a delivery.
    const ch = await broker.model.createChannel()
    const first = deferred()
    await ch.consume(source, (m) => {
      if (m === null) return
      ch.nack(m, false, true)
      first.resolve()
    })
    await first.promise
    await ch.close()

    const ctx = context()
    const seen: Exchange[] = []
    await ctx.addRoutes((r) =>
      r
        .from(`amqp:queue:${source}?passive=true`)
        .process((ex) => void seen.push(ex))
        .to(`amqp:queue:${target}`),
    )
    await ctx.start()
    const bridged = await broker.nextMessage(target)
    await ctx.stop()

    expect(seen[0]!.message.headers['x-delivery-count']).toBeGreaterThanOrEqual(1)
    expect(bridged.properties.headers?.['x-delivery-count']).toBeUndefined()
    expect(bridged.properties.messageId).toBe('q-1')
  })

  it('drops reserved names from inbound application headers (an AMQP http.method never reaches the exchange)', async () => {
    const q = await broker.queue('reserved-in')
    await broker.publish(q, [
      {
        body: 'x',
        contentType: 'text/plain',
        messageId: 'm-1',
        headers: {
          'http.method': 'DELETE',
          'HTTP.status': 500,
          'dromedary.duplicate': true,
          'tkv.key': 'k',
          'amqp.exchange': 'forged',
          tenant: 'acme',
        },
      },
    ])
    const headers = await headersOfOne(q)
    expect(Object.keys(headers).sort()).toEqual([
      'amqp.correlationId',
      'amqp.exchange',
      'amqp.messageId',
      'amqp.redelivered',
      'amqp.routingKey',
      'tenant',
    ])
    expect(headers['amqp.exchange']).toBe('')
  })

  it('never publishes the credentials and hop-by-hop headers of an HTTP-like header set', async () => {
    const q = await broker.queue('from-http')
    const ctx = context()
    await ctx.start()
    const ex = await ctx.producer().send(
      `amqp:queue:${q}`,
      { ok: true },
      {
        authorization: 'Bearer secret',
        Cookie: 'session=abc',
        'set-cookie': 'a=b',
        'proxy-authorization': 'Basic x',
        host: 'api.example',
        'content-length': '11',
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
        'x-forwarded-for': '10.0.0.1',
        'http.method': 'POST',
        tenant: 'acme',
        'content-type': 'application/json',
      },
    )
    await ctx.stop()

    expect(ex.exception).toBeUndefined()
    const [m] = await broker.drain(q)
    expect(m!.properties.headers).toEqual({ tenant: 'acme', 'content-type': 'application/json' })
  })
})

describe('amqp headerFilter option', () => {
  it('publishes what the filter allows, but never a reserved name', async () => {
    const q = await broker.queue('filter-out')
    const ctx = context({
      outbound: (name, value) => name === 'x-request-id' || defaultAmqpHeaderFilter.outbound(name, value),
    })
    await ctx.start()
    await ctx.producer().send(`amqp:queue:${q}`, 'x', {
      'x-request-id': 'r-1',
      'x-other': 'no',
      'dromedary.trace': 'never',
      tenant: 'acme',
    })
    await ctx.stop()

    const [m] = await broker.drain(q)
    expect(m!.properties.headers).toEqual({ 'x-request-id': 'r-1', tenant: 'acme' })
  })

  it('drops inbound headers the filter refuses', async () => {
    const q = await broker.queue('filter-in')
    await broker.publish(q, [{ body: 'x', headers: { password: 'hunter2', tenant: 'acme' } }])
    const headers = await headersOfOne(q, { inbound: (name) => name !== 'password' })
    expect(headers.tenant).toBe('acme')
    expect(headers).not.toHaveProperty('password')
  })
})
