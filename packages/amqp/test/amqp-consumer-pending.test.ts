/**
 * The consumer's bookkeeping of deliveries that are taken but not started, against a scripted channel: the
 * broker never delivers more than `prefetch` on one channel, but after a reconnect the exchanges of the dead
 * channel still run while the new channel delivers, and deliveries can race a basic.cancel.
 */
import type { ConsumerHost, Exchange, ShutdownRunningTask } from '@dromedary/core'
import { describe, expect, it } from 'vitest'
import type { AmqpMessage } from '../src/amqp-channel.js'
import type { AmqpConnection, AmqpSession } from '../src/amqp-connection.js'
import { AmqpConsumer } from '../src/amqp-consumer.js'
import { AmqpHeaderRules } from '../src/amqp-headers.js'

interface Settled {
  tag: number
  how: 'ack' | 'requeue' | 'reject'
}

class FakeChannel {
  isOpen = true
  settled: Settled[] = []
  onMessage: ((m: AmqpMessage | null) => void) | undefined
  closeListeners: Array<(err: Error | undefined) => void> = []
  cancelled = false

  async checkQueue() {}
  async assertQueue() {}
  async checkExchange() {}
  async prefetch() {}
  onClose(fn: (err: Error | undefined) => void) {
    this.closeListeners.push(fn)
  }
  async consume(_q: string, fn: (m: AmqpMessage | null) => void) {
    this.onMessage = fn
    return 'ctag'
  }
  async cancel() {
    this.cancelled = true
    return true
  }
  ack(m: AmqpMessage) {
    this.settled.push({ tag: m.fields.deliveryTag, how: 'ack' })
    return this.isOpen
  }
  nack(m: AmqpMessage, requeue: boolean) {
    this.settled.push({ tag: m.fields.deliveryTag, how: requeue ? 'requeue' : 'reject' })
    return this.isOpen
  }
  async close() {
    this.die()
  }
  die() {
    if (!this.isOpen) return
    this.isOpen = false
    for (const l of this.closeListeners) l(undefined)
  }
  deliver(tag: number) {
    this.onMessage!({
      content: Buffer.from(JSON.stringify({ tag })),
      fields: { deliveryTag: tag, redelivered: false, exchange: '', routingKey: 'q', consumerTag: 'ctag' },
      properties: { contentType: 'application/json', headers: {} },
    } as unknown as AmqpMessage)
  }
}

function setup(
  prefetch: number,
  task: ShutdownRunningTask = 'completeCurrentTaskOnly',
  concurrency = prefetch,
) {
  const channels: FakeChannel[] = []
  const session = (): AmqpSession =>
    ({
      generation: channels.length + 1,
      openChannel: async () => {
        const ch = new FakeChannel()
        channels.push(ch)
        return ch
      },
    }) as unknown as AmqpSession
  let recover: ((s: AmqpSession) => Promise<void>) | undefined
  const connection = {
    addRecoverer: (fn: (s: AmqpSession) => Promise<void>) => {
      recover = fn
      return () => (recover = undefined)
    },
    session: async () => session(),
  } as unknown as AmqpConnection
  const running = new Map<number, () => void>()
  let notified = 0
  const host: ConsumerHost = {
    routeId: 'r',
    endpointUri: 'amqp:queue:q',
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    shutdownRunningTask: task,
    shutdownLevel: 'running',
    createExchange: <T>(body: T) => ({ message: { body, headers: {} } }) as unknown as Exchange<T>,
    process: (ex) =>
      new Promise<void>((resolve) => running.set((ex.message.body as { tag: number }).tag, resolve)),
    wasAborted: () => false,
    notifyPending: () => notified++,
    setReady: () => undefined,
  }
  const noop = { inc() {} }
  const consumer = new AmqpConsumer(
    host,
    {
      connection: () => connection,
      counters: { acked: noop, nacked: noop, requeued: noop, dead_lettered: noop },
      headers: new AmqpHeaderRules(undefined),
      resubscribe: { initialDelayMs: 10, maxDelayMs: 100 },
      closeTimeoutMs: 1000,
    },
    {
      queue: 'q',
      prefetch,
      concurrency,
      declare: undefined,
      deadLetterExchange: undefined,
      maxRedeliveries: undefined,
      contentType: 'auto',
    },
  )
  /** Lets the exchange of delivery `tag` finish and its settlement run. */
  const finish = async (tag: number) => {
    running.get(tag)!()
    running.delete(tag)
    await new Promise((r) => setImmediate(r))
  }
  return {
    consumer,
    channels,
    running,
    finish,
    notified: () => notified,
    reconnect: () => recover!(session()),
  }
}

describe('amqp consumer pending deliveries', () => {
  it('starts no more than prefetch exchanges when a new channel delivers while old exchanges run', async () => {
    const t = setup(2)
    await t.consumer.start()
    const [old] = t.channels
    old!.deliver(1)
    old!.deliver(2)
    old!.die()
    await t.reconnect()
    const fresh = t.channels[1]!
    fresh.deliver(11)
    fresh.deliver(12)

    expect([...t.running.keys()]).toEqual([1, 2])
    expect(t.consumer.pendingExchanges()).toBe(2)

    await t.finish(1)
    expect([...t.running.keys()]).toEqual([2, 11])
    expect(t.consumer.pendingExchanges()).toBe(1)
    expect(t.notified()).toBeGreaterThan(0)
    // the dead channel's exchange is never acknowledged, on any channel
    expect(old!.settled).toEqual([])
    expect(fresh.settled).toEqual([])
  })

  it('hands pending deliveries back with requeue at prepareShutdown (completeCurrentTaskOnly)', async () => {
    const t = setup(1)
    await t.consumer.start()
    const ch = t.channels[0]!
    ch.deliver(1)
    ch.deliver(2) // arrives racing the cancel: taken, not started
    expect(t.consumer.pendingExchanges()).toBe(1)

    await t.consumer.prepareShutdown({ forced: false, task: 'completeCurrentTaskOnly' })
    expect(ch.cancelled).toBe(true)
    expect(t.consumer.pendingExchanges()).toBe(0)
    expect(ch.settled).toEqual([{ tag: 2, how: 'requeue' }])

    await t.finish(1)
    await t.consumer.stop({ forced: false })
    expect(ch.settled).toEqual([
      { tag: 2, how: 'requeue' },
      { tag: 1, how: 'ack' },
    ])
    expect(ch.isOpen).toBe(false)
  })

  it('processes pending deliveries before stopping (completeAllTasks)', async () => {
    const t = setup(1, 'completeAllTasks')
    await t.consumer.start()
    const ch = t.channels[0]!
    ch.deliver(1)
    ch.deliver(2)

    await t.consumer.prepareShutdown({ forced: false, task: 'completeAllTasks' })
    expect(t.consumer.pendingExchanges()).toBe(1)
    await t.finish(1)
    expect(t.consumer.pendingExchanges()).toBe(0)
    await t.finish(2)
    await t.consumer.stop({ forced: false })

    expect(ch.settled).toEqual([
      { tag: 1, how: 'ack' },
      { tag: 2, how: 'ack' },
    ])
  })

  it('graceful stop waits for running exchanges to be acknowledged before closing the channel', async () => {
    const t = setup(3)
    await t.consumer.start()
    const ch = t.channels[0]!
    ch.deliver(1)
    const stopping = t.consumer.stop({ forced: false })
    await new Promise((r) => setImmediate(r))
    expect(ch.isOpen).toBe(true)

    await t.finish(1)
    await stopping
    expect(ch.settled).toEqual([{ tag: 1, how: 'ack' }])
    expect(ch.isOpen).toBe(false)
  })

  it('forced stop closes the channel at once and acknowledges nothing afterwards', async () => {
    const t = setup(3)
    await t.consumer.start()
    const ch = t.channels[0]!
    ch.deliver(1)
    ch.deliver(2)
    await t.consumer.stop({ forced: true })
    expect(ch.isOpen).toBe(false)

    await t.finish(1)
    await t.finish(2)
    expect(ch.settled.filter((s) => s.how === 'ack')).toEqual([])
  })
})
