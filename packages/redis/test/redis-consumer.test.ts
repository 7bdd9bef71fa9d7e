import { createContext, type Exchange, type IntegrationContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { consumerShutdownContract } from '../../../test/support/consumer-contract.js'
import { captureLogger, counter, deferred } from '../../../test/support/observe.js'
import { redisComponent } from '../src/index.js'
import { REDIS_URL, useRedis, type RedisOracle } from './support/server.js'

const suite = useRedis()
let redis: RedisOracle
beforeEach(() => {
  redis = suite.redis
})

function context(options: Parameters<typeof createContext>[0] = {}): IntegrationContext {
  const ctx = createContext({ logger: false, ...options })
  ctx.addComponent('redis', redisComponent({ url: REDIS_URL }))
  return suite.track(ctx)
}

consumerShutdownContract('redis', () => ({
  context: () => context(),
  async source(count, batch) {
    const stream = redis.key('contract')
    await redis.addNumbers(stream, count)
    return {
      uri: `redis:stream:${stream}?group=g&consumer=c1&batch=${batch}&blockMs=200`,
      remaining: () => redis.remaining(stream, 'g'),
    }
  },
}))

describe('redis consumer', () => {
  it('maps fields to body and headers, reads entries written by hand, and acks', async () => {
    const stream = redis.key('fields')
    await redis.add(stream, [{ order: 1 }], {
      tenant: 'acme',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'amqp.routingKey': 'forged',
      'redis.id': 'forged',
      ['__proto__']: 'x',
    })
    await redis.client.sendCommand(['XADD', stream, '*', 'id', '7', 'total', '9.5'])
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`redis:stream:${stream}?group=g`).to('mock:out'))
    const out = ctx.mock('out').expectedMessageCount(2)
    await ctx.start()
    await out.assertIsSatisfied({ timeoutMs: 5000 })
    const [json, plain] = out.receivedExchanges as Exchange[]
    expect(json!.message.body).toEqual({ order: 1 })
    expect(json!.message.headers).toMatchObject({
      tenant: 'acme',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'redis.stream': stream,
      'redis.group': 'g',
      'redis.deliveryCount': 1,
    })
    expect(json!.message.headers['redis.id']).not.toBe('forged')
    expect(json!.message.headers).not.toHaveProperty('amqp.routingKey')
    expect(Object.getPrototypeOf(json!.message.headers)).toBe(Object.prototype)
    expect(Object.hasOwn(json!.message.headers, '__proto__')).toBe(true)
    expect(plain!.message.body).toEqual({ id: '7', total: '9.5' })
    await ctx.stop()
    expect(await redis.remaining(stream, 'g')).toBe(0)
    expect(await counter(ctx, 'dromedary_redis_messages_total', { stream, outcome: 'acked' })).toBe(2)
  })

  it('never runs more than batch exchanges at once', async () => {
    const stream = redis.key('batch')
    await redis.addNumbers(stream, 60)
    let running = 0
    let max = 0
    let done = 0
    const all = deferred()
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`redis:stream:${stream}?group=g&batch=7`).process(async () => {
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

  it('retries a failed entry after minIdleMs and dead-letters it once it failed maxDeliveries times', async () => {
    const stream = redis.key('poison')
    const dlq = redis.key('dlq')
    const [id] = await redis.add(stream, [{ poison: true }], { tenant: 'acme' })
    let attempts = 0
    const logger = captureLogger()
    const ctx = context({ logger })
    await ctx.addRoutes((r) =>
      r
        .from(
          `redis:stream:${stream}?group=g&maxDeliveries=3&minIdleMs=100&claimIntervalMs=50&deadLetterStream=${dlq}`,
        )
        .process(() => {
          attempts++
          throw new Error('cannot\r\nprocess')
        }),
    )
    await ctx.start()
    await logger.waitFor((l) => l.msg.includes('dead-lettered'))
    await ctx.stop()
    expect(attempts).toBe(3)
    const [dead] = await redis.read(dlq)
    expect(JSON.parse(dead!.fields.body!)).toEqual({ poison: true })
    expect(dead!.fields).toMatchObject({
      tenant: 'acme',
      'dromedary-dead-letter-reason': 'cannot process',
      'dromedary-original-stream': stream,
      'dromedary-original-id': id,
      'dromedary-deliveries': '3',
    })
    expect(await redis.remaining(stream, 'g')).toBe(0)
    expect(await counter(ctx, 'dromedary_redis_messages_total', { stream, outcome: 'retried' })).toBe(2)
  })

  it('takes over the entries of a dead consumer once they are idle for minIdleMs', async () => {
    const stream = redis.key('takeover')
    await redis.addNumbers(stream, 5)
    await redis.client.sendCommand(['XGROUP', 'CREATE', stream, 'g', '0'])
    // A consumer that read everything and died.
    await redis.client.sendCommand([
      'XREADGROUP',
      'GROUP',
      'g',
      'dead',
      'COUNT',
      '10',
      'STREAMS',
      stream,
      '>',
    ])
    const seen: Array<{ n: number; deliveries: unknown }> = []
    const all = deferred()
    const ctx = context()
    await ctx.addRoutes((r) =>
      r
        .from<{ n: number }>(`redis:stream:${stream}?group=g&consumer=alive&minIdleMs=200&claimIntervalMs=50`)
        .process((ex) => {
          seen.push({ n: ex.message.body.n, deliveries: ex.message.headers['redis.deliveryCount'] })
          if (seen.length === 5) all.resolve()
        }),
    )
    await ctx.start()
    await all.promise
    await ctx.stop()
    expect(seen.map((s) => s.n).sort()).toEqual([0, 1, 2, 3, 4])
    expect(seen.every((s) => s.deliveries === 2)).toBe(true)
    expect(await redis.remaining(stream, 'g')).toBe(0)
  })

  it('dead-letters without running the route an entry already delivered more than maxDeliveries times', async () => {
    const stream = redis.key('crashloop')
    const dlq = redis.key('dlq')
    const [id] = await redis.add(stream, [{ crash: true }])
    await redis.client.sendCommand(['XGROUP', 'CREATE', stream, 'g', '0'])
    await redis.client.sendCommand(['XREADGROUP', 'GROUP', 'g', 'dead', 'STREAMS', stream, '>'])
    // Delivered (and crashed on) 4 times already.
    await redis.client.sendCommand([
      'XCLAIM',
      stream,
      'g',
      'dead',
      '0',
      id!,
      'IDLE',
      '100000',
      'RETRYCOUNT',
      '4',
    ])
    let ran = 0
    const logger = captureLogger()
    const ctx = context({ logger })
    await ctx.addRoutes((r) =>
      r
        .from(`redis:stream:${stream}?group=g&maxDeliveries=3&deadLetterStream=${dlq}`)
        .process(() => void ran++),
    )
    await ctx.start()
    await logger.waitFor((l) => l.msg.includes('dead-lettered'))
    await ctx.stop()
    expect(ran).toBe(0)
    expect((await redis.read(dlq))[0]!.fields['dromedary-deliveries']).toBe('5')
    expect(await redis.remaining(stream, 'g')).toBe(0)
  })

  it('acks an exhausted entry with an error log when there is no dead-letter stream', async () => {
    const stream = redis.key('discard')
    await redis.add(stream, [{ bad: true }])
    const logger = captureLogger()
    const ctx = context({ logger })
    await ctx.addRoutes((r) =>
      r.from(`redis:stream:${stream}?group=g&maxDeliveries=1`).process(() => {
        throw new Error('no')
      }),
    )
    await ctx.start()
    const line = await logger.waitFor((l) => l.level === 'error' && l.msg.includes('no deadLetterStream'))
    await ctx.stop()
    expect(line.msg).toContain('dropped (acked)')
    expect(await redis.remaining(stream, 'g')).toBe(0)
  })

  it('keeps long exchanges from being claimed by another consumer (idle time reset)', async () => {
    const stream = redis.key('touch')
    await redis.add(stream, [{ slow: true }])
    const runs: string[] = []
    const started = deferred()
    const finish = deferred()
    const slow = context()
    await slow.addRoutes((r) =>
      r
        .from(`redis:stream:${stream}?group=g&consumer=slow&minIdleMs=1000&claimIntervalMs=30`)
        .process(async () => {
          runs.push('slow')
          started.resolve()
          await finish.promise
        }),
    )
    await slow.start()
    await started.promise
    const other = context()
    await other.addRoutes((r) =>
      r
        .from(`redis:stream:${stream}?group=g&consumer=other&minIdleMs=1000&claimIntervalMs=30`)
        .process(() => void runs.push('other')),
    )
    await other.start()
    // Three times minIdleMs: without the idle-time resets, the other consumer would claim it.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    finish.resolve()
    await slow.stop()
    await other.stop()
    expect(runs).toEqual(['slow'])
    expect(await redis.remaining(stream, 'g')).toBe(0)
  })
})

describe('redis consumer readiness', () => {
  it('reports not ready while its group is gone, and ready again once it is back', async () => {
    const stream = redis.key('ready')
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`redis:stream:${stream}?group=g&blockMs=100`).to('mock:out'))
    await ctx.start()
    expect(ctx.health().ready).toBe(true)
    await redis.client.sendCommand(['XGROUP', 'DESTROY', stream, 'g'])
    await expect.poll(() => ctx.health().ready, { timeout: 10_000 }).toBe(false)
    await redis.client.sendCommand(['XGROUP', 'CREATE', stream, 'g', '$'])
    await redis.add(stream, [{ back: true }])
    const out = ctx.mock('out').expectedMessageCount(1)
    await out.assertIsSatisfied({ timeoutMs: 15_000 })
    expect(ctx.health().ready).toBe(true)
    await ctx.stop()
  })
})

describe('redis consumer hand-back', () => {
  it('a graceful stop hands read-but-not-started entries back idle, with their delivery count restored', async () => {
    const stream = redis.key('handback')
    await redis.client.sendCommand(['XGROUP', 'CREATE', stream, 'g', '0', 'MKSTREAM'])
    // Five entries a dead consumer left pending, delivered 3 times already; five new ones.
    const old = await redis.add(
      stream,
      [0, 1, 2, 3, 4].map((n) => ({ n })),
    )
    await redis.client.sendCommand(['XREADGROUP', 'GROUP', 'g', 'dead', 'STREAMS', stream, '>'])
    await redis.client.sendCommand([
      'XCLAIM',
      stream,
      'g',
      'dead',
      '0',
      ...old,
      'IDLE',
      '100000',
      'RETRYCOUNT',
      '3',
    ])
    await redis.add(
      stream,
      [5, 6, 7, 8, 9].map((n) => ({ n })),
    )
    const gate = deferred()
    let running = 0
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`redis:stream:${stream}?group=g&consumer=me&batch=5&maxDeliveries=10`).process(async () => {
        running++
        await gate.promise
      }),
    )
    // At start the claim (the dead consumer's five) and the first read (the five new) both fill the batch: five
    // run, five wait.
    await ctx.start()
    await expect.poll(() => running).toBe(5)
    await expect.poll(() => ctx.routes()[0]!.pending, { timeout: 5000 }).toBe(5)
    const stopping = ctx.stop()
    await expect.poll(() => ctx.routes()[0]!.pending).toBe(0)
    gate.resolve()
    await stopping
    const rows = await redis.client.sendCommand<Array<[string, string, number, number]>>([
      'XPENDING',
      stream,
      'g',
      '-',
      '+',
      '20',
    ])
    expect(rows.length).toBe(5)
    const counts = new Set(rows.map((row) => Number(row[3])))
    // Restored: 3 for the dead consumer's (claimed: 4), 0 for new ones (read: 1).
    expect([[0], [3]]).toContainEqual([...counts])
    for (const row of rows) expect(Number(row[2])).toBeGreaterThan(1_000_000)
    expect(await counter(ctx, 'dromedary_redis_messages_total', { stream, outcome: 'handed_back' })).toBe(5)
  })
})
