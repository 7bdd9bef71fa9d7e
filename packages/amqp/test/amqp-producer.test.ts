import { createContext, isDromedaryError, type IntegrationContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { amqpComponent, AmqpErrorCodes } from '../src/index.js'
import { BROKER_URL, counter, useBroker, type Broker } from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

async function started(routes: Parameters<IntegrationContext['addRoutes']>[0]): Promise<IntegrationContext> {
  const ctx = createContext({ logger: false })
  ctx.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
  suite.track(ctx)
  await ctx.addRoutes(routes)
  await ctx.start()
  return ctx
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('amqp producer', () => {
  it('completes each of 1,000 exchanges only once the broker has confirmed its message', async () => {
    const q = await broker.queue('publish')
    const ctx = await started((r) => r.from('direct:publish').routeId('publisher').to(`amqp:queue:${q}`))
    const exchanges = await Promise.all(range(1000).map((n) => ctx.producer().send('direct:publish', { n })))

    expect(exchanges.filter((ex) => ex.exception !== undefined)).toEqual([])
    expect(await broker.messageCount(q)).toBe(1000)
    expect(await counter(ctx, 'dromedary_amqp_published_total', { exchange: '', outcome: 'confirmed' })).toBe(
      1000,
    )
    const messages = await broker.drain(q)
    expect(messages[0]!.properties.contentType).toBe('application/json')
    expect(messages[0]!.properties.deliveryMode).toBe(2)
    expect(new Set(messages.map((m) => (JSON.parse(m.content.toString()) as { n: number }).n)).size).toBe(
      1000,
    )
  })

  it('keeps every message when publishing faster than the socket drains', async () => {
    const q = await broker.queue('drain')
    const ctx = await started((r) => r.from('direct:burst').to(`amqp:queue:${q}`))
    const body = 'x'.repeat(4096)
    const exchanges = await Promise.all(range(4000).map(() => ctx.producer().send('direct:burst', body)))

    expect(exchanges.filter((ex) => ex.exception !== undefined)).toEqual([])
    expect(await broker.messageCount(q)).toBe(4000)
  })

  it('publishes to an exchange with the routing key, headers and message id of the exchange', async () => {
    const exchange = await broker.exchange('events', 'topic')
    const q = await broker.queue('events')
    await broker.channel.bindQueue(q, exchange, 'order.*')
    const ctx = await started((r) =>
      r.from('direct:events').to(`amqp:exchange:${exchange}?routingKey=order.created&persistent=false`),
    )
    const ex = await ctx
      .producer()
      .send('direct:events', 'hello', { tenant: 'acme', 'amqp.correlationId': 'c-9', 'http.method': 'POST' })

    expect(ex.exception).toBeUndefined()
    const [m] = await broker.drain(q)
    expect(m!.content.toString()).toBe('hello')
    expect(m!.fields.routingKey).toBe('order.created')
    expect(m!.properties).toMatchObject({ contentType: 'text/plain', correlationId: 'c-9', deliveryMode: 1 })
    expect(m!.properties.headers).toEqual({ tenant: 'acme' })
    expect(typeof m!.properties.messageId).toBe('string')
  })

  it('declares the exchange when exchangeType is given', async () => {
    const exchange = broker.trackExchange(broker.name('declared'))
    const q = await broker.queue('declared')
    const ctx = await started((r) => r.from('direct:d').to(`amqp:exchange:${exchange}?exchangeType=fanout`))
    // bound after the producer declared the exchange on its first publish
    await ctx.producer().send('direct:d', { first: true })
    await broker.channel.bindQueue(q, exchange, '')
    const ex = await ctx.producer().send('direct:d', { second: true })

    expect(ex.exception).toBeUndefined()
    expect((await broker.drain(q)).map((m) => m.content.toString())).toEqual(['{"second":true}'])
  })

  it('fails the exchange when a mandatory message is returned as unroutable', async () => {
    const exchange = await broker.exchange('unroutable', 'direct')
    const ctx = await started((r) =>
      r.from('direct:m').to(`amqp:exchange:${exchange}?routingKey=nobody&mandatory=true`),
    )
    const ex = await ctx.producer().send('direct:m', { lost: false })

    expect(isDromedaryError(ex.exception, AmqpErrorCodes.PUBLISH_RETURNED)).toBe(true)
    expect(await counter(ctx, 'dromedary_amqp_published_total', { exchange, outcome: 'returned' })).toBe(1)
  })

  it('fails the exchange when the target queue does not exist (mandatory by default for queues)', async () => {
    const ctx = await started((r) => r.from('direct:q').to(`amqp:queue:${broker.name('missing')}`))
    const ex = await ctx.producer().send('direct:q', 'anyone there?')

    expect(isDromedaryError(ex.exception, AmqpErrorCodes.PUBLISH_RETURNED)).toBe(true)
  })

  it('fails the exchange with a topology error when the exchange does not exist', async () => {
    const ctx = await started((r) => r.from('direct:x').to(`amqp:exchange:${broker.name('nowhere')}`))
    const ex = await ctx.producer().send('direct:x', 'x')

    expect(isDromedaryError(ex.exception, AmqpErrorCodes.TOPOLOGY)).toBe(true)
  })

  it('fails the exchange when the body has no JSON form', async () => {
    const q = await broker.queue('encode')
    const ctx = await started((r) => r.from('direct:e').to(`amqp:queue:${q}`))
    const ex = await ctx.producer().send('direct:e', { big: 1n })

    expect(isDromedaryError(ex.exception, AmqpErrorCodes.ENCODE)).toBe(true)
    expect(await broker.messageCount(q)).toBe(0)
  })

  it('waits for outstanding confirms before the connection closes at stop', async () => {
    const q = await broker.queue('stop')
    const ctx = await started(() => {})
    // Straight to the endpoint: these are not route exchanges, so the drain does not wait for them.
    const sends = range(500).map((n) => ctx.producer().send(`amqp:queue:${q}`, { n }))
    await ctx.stop()
    const exchanges = await Promise.all(sends)

    expect(exchanges.filter((ex) => ex.exception !== undefined)).toEqual([])
    expect(await broker.messageCount(q)).toBe(500)
  })
})
