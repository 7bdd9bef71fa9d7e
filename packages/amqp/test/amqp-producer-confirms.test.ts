/**
 * The producer against the real broker at its edges: a write buffer that fills (amqplib's `publish`
 * returning false), and returns and nacks that must fail exactly the publish they belong to.
 */
import { createContext, isDromedaryError, type Exchange, type IntegrationContext } from '@dromedary/core'
import type { ConfirmChannel } from 'amqplib'
import { beforeEach, describe, expect, it } from 'vitest'
import { amqpComponent, AmqpErrorCodes } from '../src/index.js'
import { BROKER_URL, useBroker, type Broker } from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

async function started(): Promise<IntegrationContext> {
  const ctx = createContext({ logger: false })
  ctx.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
  suite.track(ctx)
  await ctx.start()
  return ctx
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

type Publish = ConfirmChannel['publish']

/**
 * Watches amqplib's ConfirmChannel.publish (the module instance the package uses): counts the calls made
 * while the channel's write buffer reports full — from a `false` return until its next `drain`.
 */
function watchPublish(prototype: { publish: Publish }) {
  const original = prototype.publish
  const full = new WeakMap<object, boolean>()
  const seen = { calls: 0, whileFull: 0, fullReports: 0 }
  prototype.publish = function (this: ConfirmChannel, ...args: Parameters<Publish>) {
    if (!full.has(this)) {
      full.set(this, false)
      // Ahead of the package's own drain listener, which may publish at once.
      this.prependListener('drain', () => full.set(this, false))
    }
    seen.calls++
    if (full.get(this) === true) seen.whileFull++
    const accepted = original.apply(this, args)
    if (!accepted) {
      full.set(this, true)
      seen.fullReports++
    }
    return accepted
  }
  return { seen, restore: () => (prototype.publish = original) }
}

describe('amqp producer back-pressure', () => {
  it('hands no publish to amqplib while its write buffer reports full, and keeps their order', async () => {
    const q = await broker.queue('backpressure')
    const watch = watchPublish(Object.getPrototypeOf(broker.confirm) as { publish: Publish })
    let exchanges: Exchange[]
    try {
      const ctx = await started()
      const producer = ctx.producer()
      exchanges = await Promise.all(range(20_000).map((n) => producer.send(`amqp:queue:${q}`, { n })))
      await ctx.stop()
    } finally {
      watch.restore()
    }

    expect(exchanges.filter((ex) => ex.exception !== undefined)).toEqual([])
    expect(watch.seen.fullReports).toBeGreaterThan(0)
    expect(watch.seen.whileFull).toBe(0)
    const order = (await broker.take(q, 20_000)).map(
      (m) => (JSON.parse(m.content.toString()) as { n: number }).n,
    )
    expect(order).toEqual(range(20_000))
  })
})

describe('amqp producer confirms with repeated message ids', () => {
  it('fails exactly the returned publishes when several unconfirmed ones share a message id', async () => {
    const exchange = await broker.exchange('returns', 'headers')
    const q = await broker.queue('returns')
    await broker.channel.bindQueue(q, exchange, '', { 'x-match': 'all', route: 'yes' })
    const ctx = await started()
    const producer = ctx.producer()
    const routable = range(60).map((i) => i % 3 !== 1)
    const exchanges = await Promise.all(
      routable.map((yes, i) =>
        producer.send(
          `amqp:exchange:${exchange}?mandatory=true`,
          { i },
          {
            'amqp.messageId': 'same-id',
            route: yes ? 'yes' : 'no',
          },
        ),
      ),
    )
    await ctx.stop()

    const returned = exchanges.map((ex) => isDromedaryError(ex.exception, AmqpErrorCodes.PUBLISH_RETURNED))
    expect(returned).toEqual(routable.map((yes) => !yes))
    const delivered = (await broker.drain(q)).map(
      (m) => (JSON.parse(m.content.toString()) as { i: number }).i,
    )
    expect(delivered.sort((a, b) => a - b)).toEqual(range(60).filter((i) => routable[i]))
  })

  it('fails exactly the nacked publishes when several unconfirmed ones share a message id', async () => {
    // A queue that holds one message and refuses the rest with a nack.
    const q = await broker.queue('nacks', { 'x-max-length': 1, 'x-overflow': 'reject-publish' })
    const ctx = await started()
    const producer = ctx.producer()
    const exchanges = await Promise.all(
      range(5).map((i) => producer.send(`amqp:queue:${q}`, { i }, { 'amqp.messageId': 'same-id' })),
    )
    await ctx.stop()

    const nacked = exchanges.map((ex) => isDromedaryError(ex.exception, AmqpErrorCodes.PUBLISH_NACKED))
    expect(nacked).toEqual([false, true, true, true, true])
    const [kept] = await broker.drain(q)
    expect(JSON.parse(kept!.content.toString())).toEqual({ i: 0 })
  })
})
