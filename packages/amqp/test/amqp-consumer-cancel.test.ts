/**
 * A consumer the broker cancels (its queue deleted and re-created) subscribes again with backoff; until it
 * has, its route reports `route_up` 0 and the context is not ready.
 */
import { createContext, type IntegrationContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { amqpComponent } from '../src/index.js'
import { BROKER_URL, captureLogger, deferred, useBroker, type Broker } from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

async function gauge(ctx: IntegrationContext, name: string, route: string): Promise<number> {
  const metric = ctx.metrics?.getSingleMetric(name)
  const { values } = (await metric?.get()) ?? { values: [] }
  return values.find((v) => v.labels.route === route)?.value ?? Number.NaN
}

function consumerOf(queue: string, options: string) {
  const logger = captureLogger()
  const ctx = createContext({ logger })
  ctx.addComponent(
    'amqp',
    amqpComponent({ url: BROKER_URL, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } }),
  )
  suite.track(ctx)
  const seen: number[] = []
  let next = deferred()
  void ctx.addRoutes((r) =>
    r
      .from<{ n: number }>(`amqp:queue:${queue}?${options}`)
      .routeId('worker')
      .process((ex) => {
        seen.push(ex.message.body.n)
        next.resolve()
      }),
  )
  const waitForCount = async (count: number) => {
    while (seen.length < count) {
      await next.promise
      next = deferred()
    }
  }
  return { ctx, logger, seen, waitForCount }
}

const lost = (l: { msg: string }) => l.msg.includes('lost its subscription')
const back = (l: { msg: string }) => l.msg.includes('is consuming again')

describe('amqp consumer cancelled by the broker', () => {
  it('consumes again after its queue is deleted and re-created, and reports not ready meanwhile', async () => {
    const q = await broker.queue('cancel')
    // passive: the consumer cannot declare the queue itself, so it stays down until the queue is back.
    const { ctx, logger, seen, waitForCount } = consumerOf(q, 'passive=true')
    await ctx.start()
    await broker.publishNumbers(q, 1)
    await waitForCount(1)
    expect(await gauge(ctx, 'dromedary_route_up', 'worker')).toBe(1)

    await broker.channel.deleteQueue(q)
    await logger.waitFor(lost)
    expect(ctx.health()).toEqual({ live: true, ready: false })
    expect(await gauge(ctx, 'dromedary_route_up', 'worker')).toBe(0)
    expect(ctx.routes()[0]!.status).toBe('started')

    await broker.channel.assertQueue(q, { durable: true })
    await logger.waitFor(back)
    await broker.publish(
      q,
      [1, 2, 3, 4, 5].map((n) => ({ body: { n }, contentType: 'application/json' })),
    )
    await waitForCount(6)
    expect(seen).toEqual([0, 1, 2, 3, 4, 5])
    expect(ctx.health()).toEqual({ live: true, ready: true })
    expect(await gauge(ctx, 'dromedary_route_up', 'worker')).toBe(1)
    await ctx.stop()
  })

  it('declares its queue again when it may, and consumes what arrives there', async () => {
    const q = await broker.queue('cancel-declare')
    const { ctx, logger, seen, waitForCount } = consumerOf(q, 'prefetch=5')
    await ctx.start()
    await broker.channel.deleteQueue(q)
    await logger.waitFor(lost)
    await logger.waitFor(back)
    // The test re-creates it too (as a redeploy would): the same declaration is a no-op.
    await broker.channel.assertQueue(q, { durable: true })
    await broker.publishNumbers(q, 5)
    await waitForCount(5)
    await ctx.stop()

    expect(seen).toEqual([0, 1, 2, 3, 4])
    expect(await broker.messageCount(q)).toBe(0)
  })
})
