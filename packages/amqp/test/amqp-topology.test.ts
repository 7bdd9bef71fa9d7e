import { createContext, isDromedaryError } from '@dromedary/core'
import type { Channel } from 'amqplib'
import { beforeEach, describe, expect, it } from 'vitest'
import { amqpComponent, AmqpErrorCodes, type AmqpComponentOptions, type AmqpTopology } from '../src/index.js'
import { BROKER_URL, captureLogger, useBroker, type Broker } from './support/broker.js'
import { startProxy } from './support/proxy.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

/** True when a passive declare on a throwaway channel succeeds (it closes the channel when it fails). */
async function exists(check: (ch: Channel) => Promise<unknown>): Promise<boolean> {
  const ch = await broker.model.createChannel()
  ch.on('error', () => undefined)
  try {
    await check(ch)
    await ch.close()
    return true
  } catch {
    return false
  }
}
const queueExists = (name: string) => exists((ch) => ch.checkQueue(name))
const exchangeExists = (name: string) => exists((ch) => ch.checkExchange(name))

function context(options: AmqpComponentOptions, logger = captureLogger()) {
  const ctx = createContext({ logger })
  ctx.addComponent('amqp', amqpComponent(options))
  suite.track(ctx)
  return ctx
}

/** A topology with unique names, registered for clean-up. */
function orderTopology(): {
  topology: AmqpTopology
  events: string
  audit: string
  dlx: string
  dead: string
} {
  const events = broker.trackExchange(broker.name('events'))
  const dlx = broker.trackExchange(broker.name('dlx'))
  const audit = broker.track(broker.name('audit'))
  const dead = broker.track(broker.name('dead'))
  return {
    events,
    audit,
    dlx,
    dead,
    topology: {
      exchanges: [
        { name: events, type: 'topic' },
        { name: dlx, type: 'fanout' },
      ],
      queues: [{ name: audit }, { name: dead, arguments: { 'x-queue-type': 'quorum' } }],
      bindings: [
        { exchange: events, queue: audit, routingKey: 'order.*' },
        { exchange: dlx, queue: dead },
      ],
    },
  }
}

describe('amqp topology as configuration', () => {
  it('declares exchanges, queues and bindings at start, so routes can use them at once', async () => {
    const t = orderTopology()
    const ctx = context({ url: BROKER_URL, topology: t.topology })
    await ctx.start()
    const ex = await ctx.producer().send(`amqp:exchange:${t.events}?routingKey=order.created`, { id: 1 })
    await ctx.stop()

    expect(ex.exception).toBeUndefined()
    expect(await broker.messageCount(t.audit)).toBe(1)
    expect(await exchangeExists(t.dlx)).toBe(true)
    expect(await queueExists(t.dead)).toBe(true)
  })

  it('is idempotent: a second context declaring the same topology starts and changes nothing', async () => {
    const t = orderTopology()
    const first = context({ url: BROKER_URL, topology: t.topology })
    await first.start()
    await first.producer().send(`amqp:exchange:${t.events}?routingKey=order.created`, { id: 1 })
    const second = context({ url: BROKER_URL, topology: t.topology })
    await second.start()
    await second.stop()
    await first.stop()

    expect(await broker.messageCount(t.audit)).toBe(1)
  })

  it('declares the topology again after a reconnect, before consumers subscribe', async () => {
    const t = orderTopology()
    const proxy = await startProxy()
    const logger = captureLogger()
    const ctx = context(
      { url: proxy.url, topology: t.topology, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } },
      logger,
    )
    await ctx.addRoutes((r) => r.from(`amqp:queue:${t.audit}?passive=true`).to('mock:audit'))
    const audit = ctx.mock('audit').expectedMessageCount(1)
    await ctx.start()
    // An operator deletes the queue; the connection then drops.
    await broker.channel.deleteQueue(t.audit)
    proxy.cut()
    await logger.waitFor((l) => l.msg.includes('re-established'))
    await ctx.producer().send(`amqp:exchange:${t.events}?routingKey=order.paid`, { id: 2 })
    await audit.assertIsSatisfied({ timeoutMs: 5000 })
    await ctx.stop()
    await proxy.close()

    expect(await queueExists(t.audit)).toBe(true)
  })

  it('undoes what a failed start declared, and keeps what existed before', async () => {
    const fresh = broker.trackExchange(broker.name('fresh'))
    const freshQueue = broker.track(broker.name('fresh'))
    const existing = await broker.queue('existing', { 'x-max-length': 10 })
    const ctx = context({
      url: BROKER_URL,
      topology: {
        exchanges: [{ name: fresh, type: 'direct' }],
        // The second queue exists with other arguments: the broker refuses (PRECONDITION_FAILED).
        queues: [{ name: freshQueue }, { name: existing, arguments: { 'x-max-length': 20 } }],
        bindings: [{ exchange: fresh, queue: freshQueue }],
      },
    })
    const err = await ctx.start().then(
      () => undefined,
      (e: unknown) => e,
    )

    expect(isDromedaryError(err, AmqpErrorCodes.TOPOLOGY)).toBe(true)
    expect((err as Error).message).toContain(existing)
    expect(await exchangeExists(fresh)).toBe(false)
    expect(await queueExists(freshQueue)).toBe(false)
    expect(await queueExists(existing)).toBe(true)
  })

  it.each<[string, unknown]>([
    ['not an object', 'queues'],
    ['an unknown key', { queue: [] }],
    ['a queue without a name', { queues: [{}] }],
    ['an exchange without a type', { exchanges: [{ name: 'x' }] }],
    ['a name declared twice', { queues: [{ name: 'q' }, { name: 'q' }] }],
    [
      'a binding to both a queue and an exchange',
      { bindings: [{ exchange: 'x', queue: 'q', toExchange: 'y' }] },
    ],
    ['a binding to neither', { bindings: [{ exchange: 'x' }] }],
    ['a non-boolean durable', { queues: [{ name: 'q', durable: 'yes' }] }],
    ['arguments that are not an object', { exchanges: [{ name: 'x', type: 'topic', arguments: [] }] }],
    ['a name longer than 255 bytes', { queues: [{ name: 'q'.repeat(256) }] }],
  ])('refuses a topology with %s (DROMEDARY_ERR_AMQP_INVALID_CONFIG, naming the entry)', (_, topology) => {
    let err: unknown
    try {
      amqpComponent({ url: BROKER_URL, topology: topology as AmqpTopology })
    } catch (e) {
      err = e
    }
    expect(isDromedaryError(err, AmqpErrorCodes.INVALID_CONFIG)).toBe(true)
    expect((err as Error).message).toContain('topology')
  })
})
