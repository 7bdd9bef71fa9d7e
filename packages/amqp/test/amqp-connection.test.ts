import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { createContext, isDromedaryError, type Exchange } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { amqpComponent, AmqpErrorCodes } from '../src/index.js'
import {
  BROKER_URL,
  captureLogger,
  closeConnectionsNamed,
  counter,
  deferred,
  useBroker,
  type Broker,
} from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

/** A context whose connection has a unique name, so the test can drop exactly that connection. */
function recoveringContext() {
  const name = broker.name('conn')
  const logger = captureLogger()
  const ctx = createContext({ name, logger })
  ctx.addComponent(
    'amqp',
    amqpComponent({ url: BROKER_URL, reconnect: { initialDelayMs: 50, maxDelayMs: 500 } }),
  )
  suite.track(ctx)
  return { ctx, name, logger }
}

describe('amqp connection recovery', () => {
  it('resumes consuming after the broker drops the connection, and loses no message', async () => {
    const q = await broker.queue('recover')
    await broker.publishNumbers(q, 300)
    const { ctx, name, logger } = recoveringContext()
    const seen = new Set<number>()
    let processed = 0
    const gate = deferred()
    const hundred = deferred()
    const all = deferred()
    await ctx.addRoutes((r) =>
      r.from<{ n: number }>(`amqp:queue:${q}?prefetch=10`).process(async (ex) => {
        processed++
        // After 100 messages the route stalls until the connection is back, so exchanges are in flight on
        // the channel that dies.
        if (seen.size >= 100) await gate.promise
        seen.add(ex.message.body.n)
        if (seen.size === 100) hundred.resolve()
        if (seen.size === 300) all.resolve()
      }),
    )
    await ctx.start()
    await hundred.promise
    expect(await closeConnectionsNamed(name)).toBe(1)
    await logger.waitFor((l) => l.msg.includes('re-established'))
    gate.resolve()
    await all.promise
    await ctx.stop()

    expect(seen.size).toBe(300)
    expect(await broker.messageCount(q)).toBe(0)
    // At-least-once: only the exchanges in flight on the dead channel may run twice.
    expect(processed - 300).toBeLessThanOrEqual(10)
    expect(await counter(ctx, 'dromedary_amqp_reconnects_total', {})).toBe(1)
    // No acknowledgement went to a channel that did not deliver the message (that would be a 406 channel error).
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([])
  })

  it('fails publishes caught by a connection loss instead of resending them, and publishes again after recovery', async () => {
    const q = await broker.queue('recover-publish')
    const { ctx, name, logger } = recoveringContext()
    await ctx.start()
    const uri = `amqp:queue:${q}`
    const results: Exchange[] = []
    const lost = logger.waitFor((l) => l.msg.includes('connection lost'))
    let down = false
    void lost.then(() => (down = true))
    const dropping = closeConnectionsNamed(name)
    // Keep 200 publishes outstanding at every moment until the loss is seen, so some are unconfirmed when it
    // hits (batches awaited one after another could all be confirmed just before it).
    let n = 0
    const lane = async (): Promise<void> => {
      while (!down) results.push(await ctx.producer().send(uri, { n: n++ }))
    }
    await Promise.all(Array.from({ length: 200 }, lane))
    expect(await dropping).toBe(1)
    await logger.waitFor((l) => l.msg.includes('re-established'))
    const after = await ctx.producer().send(uri, { after: true })
    await ctx.stop()

    const failed = results.filter((ex) => ex.exception !== undefined)
    const confirmed = results.length - failed.length
    expect(after.exception).toBeUndefined()
    expect(failed.length).toBeGreaterThan(0)
    for (const ex of failed) {
      const ok =
        isDromedaryError(ex.exception, AmqpErrorCodes.PUBLISH_UNCONFIRMED) ||
        isDromedaryError(ex.exception, AmqpErrorCodes.CHANNEL)
      expect(ok, String(ex.exception)).toBe(true)
    }
    const inQueue = await broker.messageCount(q)
    // Every confirmed message is there; an unconfirmed one may or may not be, but none was sent twice.
    expect(inQueue).toBeGreaterThanOrEqual(confirmed + 1)
    expect(inQueue).toBeLessThanOrEqual(results.length + 1)
  })

  it('fails start with DROMEDARY_ERR_AMQP_CONNECT when the broker cannot be reached', async () => {
    const ctx = createContext({ logger: false })
    suite.track(ctx)
    ctx.addComponent(
      'amqp',
      amqpComponent({
        url: 'amqp://guest:guest@127.0.0.1:1',
        reconnect: { initialMaxRetries: 1, initialDelayMs: 10 },
      }),
    )
    await expect(ctx.start()).rejects.toMatchObject({ code: AmqpErrorCodes.CONNECT })
  })
})

describe('amqp component health', () => {
  it('reports the context not ready, but still live, once connection recovery gives up', async () => {
    // A TCP proxy in front of the broker that the test can take away, so reconnects are refused.
    const sockets = new Set<Socket>()
    const proxy = createServer((client) => {
      const upstream = connect(Number(new URL(BROKER_URL).port || 5672), new URL(BROKER_URL).hostname)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('error', () => undefined)
        s.on('close', () => sockets.delete(s))
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const url = new URL(BROKER_URL)
    url.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`
    const logger = captureLogger()
    const ctx = createContext({ logger })
    suite.track(ctx)
    ctx.addComponent(
      'amqp',
      amqpComponent({ url: url.href, reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxRetries: 2 } }),
    )
    const q = await broker.queue('health')
    await ctx.addRoutes((r) => r.from(`amqp:queue:${q}`).to('mock:out'))
    await ctx.start()
    expect(ctx.health()).toEqual({ live: true, ready: true })

    const gaveUp = logger.waitFor((l) => l.msg.includes('recovery gave up'))
    await new Promise<void>((resolve) => {
      proxy.close(() => resolve())
      for (const s of sockets) s.destroy()
    })
    await gaveUp
    // Not ready (take it out of the load balancer), still live (a dead broker must not restart every pod).
    expect(ctx.health()).toEqual({ live: true, ready: false })
    await ctx.stop()
  })
})
