import { createContext, type Exchange, type IntegrationContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { consumerShutdownContract } from '../../../test/support/consumer-contract.js'
import { natsComponent } from '../src/index.js'
import { NATS_SERVER, useNats, type NatsOracle } from './support/server.js'
import { captureLogger, counter, deferred } from '../../../test/support/observe.js'

const suite = useNats()
let nats: NatsOracle
beforeEach(() => {
  nats = suite.nats
})

function context(options: Parameters<typeof createContext>[0] = {}): IntegrationContext {
  const ctx = createContext({ logger: false, ...options })
  ctx.addComponent('nats', natsComponent({ servers: NATS_SERVER }))
  return suite.track(ctx)
}

consumerShutdownContract('nats', () => ({
  context: () => context(),
  async source(count, batch) {
    const stream = await nats.stream('contract')
    await nats.consumer(stream, 'worker')
    await nats.publishNumbers(stream, count)
    return {
      uri: `nats:stream:${stream}?consumer=worker&batch=${batch}`,
      async remaining() {
        const info = await nats.consumerInfo(stream, 'worker')
        return info.num_pending + info.num_ack_pending
      },
    }
  },
}))

describe('nats consumer', () => {
  it('maps content types to bodies and NATS metadata to headers, and acks', async () => {
    const stream = await nats.stream('headers')
    await nats.publish(`${stream}.a`, [{ order: 1 }], {
      headers: {
        tenant: 'acme',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        'amqp.routingKey': 'forged',
        'dromedary.duplicate': 'true',
        'Nats-Msg-Id': 'm-1',
      },
    })
    await nats.publish(`${stream}.b`, ['plain'], { contentType: 'text/plain' })
    await nats.publish(`${stream}.c`, [new Uint8Array([1, 2, 3])], { contentType: null })
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`nats:stream:${stream}?consumer=c1`).to('mock:out'))
    const out = ctx.mock('out').expectedMessageCount(3)
    await ctx.start()
    await out.assertIsSatisfied({ timeoutMs: 5000 })
    const [json, text, binary] = out.receivedExchanges as Exchange[]
    expect(json!.message.body).toEqual({ order: 1 })
    expect(json!.message.headers).toMatchObject({
      tenant: 'acme',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'nats.stream': stream,
      'nats.subject': `${stream}.a`,
      'nats.sequence': 1,
      'nats.deliveryCount': 1,
      'nats.redelivered': false,
      'nats.msgId': 'm-1',
    })
    expect(json!.message.headers).not.toHaveProperty('amqp.routingKey')
    expect(json!.message.headers).not.toHaveProperty('dromedary.duplicate')
    expect(json!.message.headers).not.toHaveProperty('Nats-Msg-Id')
    expect(text!.message.body).toBe('plain')
    expect([...(binary!.message.body as Buffer)]).toEqual([1, 2, 3])
    await ctx.stop()
    const info = await nats.consumerInfo(stream, 'c1')
    expect(info.num_ack_pending + info.num_pending).toBe(0)
    expect(await counter(ctx, 'dromedary_nats_messages_total', { stream, outcome: 'acked' })).toBe(3)
  })

  it('never runs more than batch exchanges at once', async () => {
    const stream = await nats.stream('batch')
    await nats.publishNumbers(stream, 60)
    let running = 0
    let max = 0
    let done = 0
    const all = deferred()
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`nats:stream:${stream}?consumer=c&batch=7`).process(async () => {
        max = Math.max(max, ++running)
        await new Promise((resolve) => setTimeout(resolve, 2))
        running--
        if (++done === 60) all.resolve()
      }),
    )
    await ctx.start()
    await all.promise
    await ctx.stop()
    expect(max).toBe(7)
  })

  it('nacks a failed exchange and dead-letters it once it failed maxDeliveries times', async () => {
    const stream = await nats.stream('poison')
    const dlq = await nats.stream('dlq')
    await nats.publish(`${stream}.in`, [{ poison: true }], { headers: { tenant: 'acme' } })
    let attempts = 0
    const logger = captureLogger()
    const ctx = context({ logger })
    await ctx.addRoutes((r) =>
      r
        .from(`nats:stream:${stream}?consumer=c&maxDeliveries=3&deadLetterSubject=${dlq}.orders`)
        .process(() => {
          attempts++
          throw new Error('cannot process')
        }),
    )
    await ctx.start()
    await logger.waitFor((l) => l.msg.includes('dead-lettered'))
    await ctx.stop()
    expect(attempts).toBe(3)
    const [dead] = await nats.read(dlq)
    expect(JSON.parse(dead!.data)).toEqual({ poison: true })
    expect(dead!.headers).toMatchObject({
      tenant: 'acme',
      'Dromedary-Dead-Letter-Reason': 'cannot process',
      'Dromedary-Original-Stream': stream,
      'Dromedary-Deliveries': '3',
    })
    const info = await nats.consumerInfo(stream, 'c')
    expect(info.num_ack_pending + info.num_pending).toBe(0)
    expect(await counter(ctx, 'dromedary_nats_messages_total', { stream, outcome: 'nacked' })).toBe(2)
    expect(await counter(ctx, 'dromedary_nats_messages_total', { stream, outcome: 'dead_lettered' })).toBe(1)
  })

  it('dead-letters without running the route a message already delivered more than maxDeliveries times', async () => {
    const stream = await nats.stream('crashloop')
    const dlq = await nats.stream('dlq')
    await nats.consumer(stream, 'c')
    await nats.publish(`${stream}.in`, [{ crash: true }])
    // Three deliveries that never settle (the process "crashed"): nak stands in for the ack_wait expiry.
    for (let i = 0; i < 3; i++) await nats.fetch(stream, 'c', 1, (m) => m.nak())
    let ran = 0
    const logger = captureLogger()
    const ctx = context({ logger })
    await ctx.addRoutes((r) =>
      r
        .from(`nats:stream:${stream}?consumer=c&maxDeliveries=2&deadLetterSubject=${dlq}.x`)
        .process(() => void ran++),
    )
    await ctx.start()
    await logger.waitFor((l) => l.msg.includes('dead-lettered'))
    await ctx.stop()
    expect(ran).toBe(0)
    expect(await nats.count(dlq)).toBe(1)
    expect(
      logger.lines.some((l) => String((l.obj as { err?: Error }).err?.message).includes('delivered 3 times')),
    ).toBe(true)
  })

  it('terminates an exhausted message with an error log when there is no dead-letter subject', async () => {
    const stream = await nats.stream('term')
    await nats.publish(`${stream}.in`, [{ bad: true }])
    const logger = captureLogger()
    const ctx = context({ logger })
    await ctx.addRoutes((r) =>
      r.from(`nats:stream:${stream}?consumer=c&maxDeliveries=1`).process(() => {
        throw new Error('no')
      }),
    )
    await ctx.start()
    const line = await logger.waitFor((l) => l.level === 'error' && l.msg.includes('terminated'))
    await ctx.stop()
    expect(line.msg).toContain('no deadLetterSubject')
    const info = await nats.consumerInfo(stream, 'c')
    expect(info.num_ack_pending + info.num_pending).toBe(0)
  })

  it('reports long exchanges as in progress, so ack_wait does not redeliver live work', async () => {
    const stream = await nats.stream('working')
    await nats.publish(`${stream}.in`, [{ slow: true }])
    const deliveries: number[] = []
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`nats:stream:${stream}?consumer=c&ackWaitMs=1000`).process(async (ex) => {
        deliveries.push(ex.message.headers['nats.deliveryCount'] as number)
        await new Promise((resolve) => setTimeout(resolve, 2600))
      }),
    )
    await ctx.start()
    await expect.poll(() => deliveries.length, { timeout: 5000 }).toBe(1)
    await ctx.stop()
    expect(deliveries).toEqual([1])
    const info = await nats.consumerInfo(stream, 'c')
    expect(info.num_redelivered).toBe(0)
    expect(info.num_ack_pending + info.num_pending).toBe(0)
  })

  it('fails to start with DROMEDARY_ERR_NATS_NO_STREAM when no stream captures the dead-letter subject', async () => {
    const stream = await nats.stream('nodlq')
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`nats:stream:${stream}?consumer=c&deadLetterSubject=${nats.name('nowhere')}.x`).to('mock:x'),
    )
    const err = await ctx.start().catch((e: unknown) => e)
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).toContain('DROMEDARY_ERR_NATS_NO_STREAM')
  })

  it('fails to start with DROMEDARY_ERR_NATS_CONSUMER when create=false and the consumer is missing', async () => {
    const stream = await nats.stream('nocons')
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`nats:stream:${stream}?consumer=missing&create=false`).to('mock:x'))
    const err = await ctx.start().catch((e: unknown) => e)
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).toContain('DROMEDARY_ERR_NATS_CONSUMER')
  })
})

describe('nats consumer readiness', () => {
  it('reports not ready while its consumer is gone, and ready again once it is back', async () => {
    const stream = await nats.stream('ready')
    await nats.consumer(stream, 'c')
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`nats:stream:${stream}?consumer=c&create=false`).to('mock:out'))
    await ctx.start()
    expect(ctx.health().ready).toBe(true)
    await nats.jsm.consumers.delete(stream, 'c')
    await expect.poll(() => ctx.health().ready, { timeout: 10_000 }).toBe(false)
    await nats.consumer(stream, 'c')
    await nats.publish(`${stream}.in`, [{ back: true }])
    const out = ctx.mock('out').expectedMessageCount(1)
    await out.assertIsSatisfied({ timeoutMs: 15_000 })
    expect(ctx.health().ready).toBe(true)
    await ctx.stop()
  })
})
