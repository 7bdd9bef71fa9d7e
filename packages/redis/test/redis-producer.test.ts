import { createContext, isDromedaryError, type IntegrationContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { counter } from '../../../test/support/observe.js'
import { RedisErrorCodes, redisComponent } from '../src/index.js'
import { REDIS_URL, useRedis, type RedisOracle } from './support/server.js'

const suite = useRedis()
let redis: RedisOracle
beforeEach(() => {
  redis = suite.redis
})

function context(): IntegrationContext {
  const ctx = createContext({ logger: false })
  ctx.addComponent('redis', redisComponent({ url: REDIS_URL }))
  return suite.track(ctx)
}

describe('redis producer', () => {
  it('adds the body, its content type and the safe headers as fields; sets redis.id', async () => {
    const stream = redis.key('xadd')
    const ctx = context()
    await ctx.addRoutes((r) => r.from('direct:in').to(`redis:stream:${stream}`))
    await ctx.start()
    const ex = await ctx.producer().send(
      'direct:in',
      { id: 7 },
      {
        tenant: 'acme',
        tracestate: 'k=v',
        attempt: 2,
        cookie: 'session=1',
        'http.method': 'POST',
        'redis.stream': 'other',
        body: 'forged',
        'multi\r\nline': 'a\r\nb',
      },
    )
    await ctx.stop()
    const [entry] = await redis.read(stream)
    expect(ex.message.headers['redis.id']).toBe(entry!.id)
    expect(entry!.fields).toEqual({
      body: '{"id":7}',
      'content-type': 'application/json',
      tenant: 'acme',
      tracestate: 'k=v',
      attempt: '2',
      'multi\r\nline': 'a\r\nb',
    })
    expect(await counter(ctx, 'dromedary_redis_published_total', { stream, outcome: 'added' })).toBe(1)
  })

  it('round-trips text, JSON and binary bodies through a stream', async () => {
    const stream = redis.key('roundtrip')
    const ctx = context()
    await ctx.addRoutes((r) => {
      r.from('direct:in').to(`redis:stream:${stream}`)
      r.from(`redis:stream:${stream}?group=g&blockMs=100`).to('mock:out')
    })
    const out = ctx.mock('out').expectedMessageCount(3)
    await ctx.start()
    const bytes = Buffer.from([0, 255, 1, 128])
    for (const body of ['héllo', { a: [1, 2] }, bytes]) await ctx.producer().send('direct:in', body)
    await out.assertIsSatisfied({ timeoutMs: 5000 })
    await ctx.stop()
    const bodies = out.receivedExchanges.map((e) => e.message.body)
    expect(bodies[0]).toBe('héllo')
    expect(bodies[1]).toEqual({ a: [1, 2] })
    expect(Buffer.compare(bodies[2] as Buffer, bytes)).toBe(0)
  })

  it('trims the stream approximately to maxLen', async () => {
    const stream = redis.key('trim')
    const ctx = context()
    await ctx.addRoutes((r) => r.from('direct:in').to(`redis:stream:${stream}?maxLen=100`))
    await ctx.start()
    for (let i = 0; i < 1000; i++) await ctx.producer().send('direct:in', { i })
    await ctx.stop()
    const len = Number(await redis.client.sendCommand(['XLEN', stream]))
    expect(len).toBeGreaterThanOrEqual(100)
    expect(len).toBeLessThan(1000)
  })

  it('fails the exchange with DROMEDARY_ERR_REDIS_PUBLISH_FAILED when the key is not a stream', async () => {
    const key = redis.key('string')
    await redis.client.sendCommand(['SET', key, 'x'])
    const ctx = context()
    await ctx.addRoutes((r) => r.from('direct:in').to(`redis:stream:${key}`))
    await ctx.start()
    const ex = await ctx.producer().send('direct:in', { x: 1 })
    await ctx.stop()
    expect(isDromedaryError(ex.exception, RedisErrorCodes.PUBLISH_FAILED)).toBe(true)
  })
})
