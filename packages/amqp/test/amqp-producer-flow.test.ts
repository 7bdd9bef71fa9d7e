/**
 * Flow control of the producer against a scripted connection: `connection.blocked` and `drain` hold new
 * publishes back, and an abort while waiting fails the exchange without sending anything.
 */
import { isDromedaryError, type Exchange } from '@dromedary/core'
import { describe, expect, it } from 'vitest'
import type { AmqpConfirmChannel } from '../src/amqp-channel.js'
import type { AmqpConnection, AmqpSession } from '../src/amqp-connection.js'
import { AmqpHeaderRules } from '../src/amqp-headers.js'
import { AmqpProducer } from '../src/amqp-producer.js'
import { AmqpErrorCodes } from '../src/errors.js'
import { IdleLatch } from '../src/idle-latch.js'

class FakeConfirmChannel {
  isOpen = true
  writable = true
  published: string[] = []
  #drainWaiters: Array<() => void> = []

  async checkExchange() {}
  async assertExchange() {}
  onClose() {}
  whenWritable(signal?: AbortSignal) {
    if (this.writable) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiters.push(resolve)
      signal?.addEventListener('abort', () => reject(signal.reason))
    })
  }
  drain() {
    this.writable = true
    for (const w of this.#drainWaiters.splice(0)) w()
  }
  async publish(_exchange: string, _key: string, content: Buffer) {
    this.published.push(content.toString())
  }
}

function setup() {
  const channel = new FakeConfirmChannel()
  let unblock: (() => void) | undefined
  const connection = {
    blocked: false,
    whenUnblocked(signal?: AbortSignal) {
      if (!this.blocked) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        unblock = resolve
        signal?.addEventListener('abort', () => reject(signal.reason))
      })
    },
    session: async () => ({ openConfirmChannel: async () => channel }) as unknown as AmqpSession,
  }
  const noop = { inc() {} }
  const unconfirmed = new IdleLatch()
  const producer = new AmqpProducer(
    {
      connection: () => connection as unknown as AmqpConnection,
      counters: { confirmed: noop, nacked: noop, returned: noop },
      headers: new AmqpHeaderRules(undefined),
      unconfirmed,
    },
    { exchange: 'events', routingKey: 'k', persistent: true, mandatory: false, exchangeType: undefined },
  )
  const unblockNow = () => {
    connection.blocked = false
    unblock?.()
  }
  return {
    producer,
    channel: channel as FakeConfirmChannel & Partial<AmqpConfirmChannel>,
    connection,
    unblockNow,
    unconfirmed,
  }
}

function exchange(body: string): Exchange & { abort(reason: string): void } {
  const controller = new AbortController()
  return {
    id: body,
    fromRouteId: 'r',
    fromUri: 'direct:r',
    createdAt: Date.now(),
    message: { body, headers: {} },
    properties: new Map(),
    signal: controller.signal,
    abort: (reason: string) => controller.abort(reason),
  }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('amqp producer flow control', () => {
  it('holds publishes while the broker blocks the connection and sends them once unblocked', async () => {
    const t = setup()
    await t.producer.process(exchange('first'))
    t.connection.blocked = true
    const held = t.producer.process(exchange('second'))
    await tick()
    expect(t.channel.published).toEqual(['first'])
    expect(t.unconfirmed.count).toBe(1)

    t.unblockNow()
    await held
    expect(t.channel.published).toEqual(['first', 'second'])
    expect(t.unconfirmed.count).toBe(0)
  })

  it('waits for drain when the write buffer is full', async () => {
    const t = setup()
    await t.producer.process(exchange('first'))
    t.channel.writable = false
    const held = t.producer.process(exchange('second'))
    await tick()
    expect(t.channel.published).toEqual(['first'])

    t.channel.drain()
    await held
    expect(t.channel.published).toEqual(['first', 'second'])
  })

  it('fails an exchange aborted while it waits, without sending it', async () => {
    const t = setup()
    await t.producer.process(exchange('first'))
    t.connection.blocked = true
    const ex = exchange('never')
    const held = t.producer.process(ex)
    await tick()
    ex.abort('forced shutdown')

    const err = await held.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isDromedaryError(err, AmqpErrorCodes.PUBLISH_ABORTED)).toBe(true)
    expect(t.channel.published).toEqual(['first'])
    expect(t.unconfirmed.count).toBe(0)
  })
})
