/**
 * `maxRedeliveries` across process crashes: each "process" is a fresh context behind its own proxy, and the
 * poison message "crashes" it by cutting its connection mid-exchange (the broker sees the socket go, as
 * after a kill, and requeues). Nothing carries over between lives except what the broker holds.
 */
import { createContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ConsumeMessage as AmqpConsumeMessage } from 'amqplib'
import { amqpComponent } from '../src/index.js'
import { deferred, useBroker, type Broker } from './support/broker.js'
import { startProxy } from './support/proxy.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

const MAX_REDELIVERIES = 2
const MAX_LIVES = 10

/** Runs one life: resolves 'crashed' when the route ran (and the process died), 'dead-lettered' otherwise. */
async function life(uri: string, dead: Promise<AmqpConsumeMessage>): Promise<'crashed' | 'dead-lettered'> {
  const proxy = await startProxy()
  const entered = deferred()
  const ctx = createContext({ logger: false })
  ctx.addComponent('amqp', amqpComponent({ url: proxy.url, reconnect: { initialMaxRetries: 0 } }))
  suite.track(ctx)
  ctx.addRoutes((r) =>
    r.from(uri).process(async () => {
      // The crash: the socket goes, nothing is acknowledged, this process never comes back.
      proxy.refuse()
      proxy.cut()
      entered.resolve()
      await new Promise(() => {})
    }),
  )
  await ctx.start()
  const outcome = await Promise.race([
    entered.promise.then(() => 'crashed' as const),
    dead.then(() => 'dead-lettered' as const),
  ])
  await proxy.close()
  await ctx.forceStop()
  return outcome
}

describe.each([
  ['classic', {}, ''],
  ['quorum', { 'x-queue-type': 'quorum' }, '&passive=true'],
])('a poison message that crashes the process on every delivery (%s queue)', (_, args, extra) => {
  it(`reaches the dead-letter exchange after at most maxRedeliveries + 1 = ${MAX_REDELIVERIES + 1} runs of the route`, async () => {
    const dlx = await broker.deadLetter('crash')
    const q = await broker.queue('crash', { ...args, 'x-dead-letter-exchange': dlx.exchange })
    await broker.publish(q, [
      { body: { poison: true }, contentType: 'application/json', messageId: 'poison-1', headers: { n: 1 } },
    ])
    const uri = `amqp:queue:${q}?deadLetterExchange=${dlx.exchange}&maxRedeliveries=${MAX_REDELIVERIES}${extra}`
    const dead = broker.nextMessage(dlx.queue)

    let runs = 0
    let lives = 0
    for (; lives < MAX_LIVES; lives++) {
      if ((await life(uri, dead)) === 'dead-lettered') break
      runs++
    }

    expect(lives).toBeLessThan(MAX_LIVES)
    expect(runs).toBe(MAX_REDELIVERIES + 1)
    const message = await dead
    expect(message.properties.messageId).toBe('poison-1')
    expect(message.properties.headers?.n).toBe(1)
    expect(await broker.messageCount(q)).toBe(0)
  })
})
