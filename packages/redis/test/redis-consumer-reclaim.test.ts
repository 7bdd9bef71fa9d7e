// An entry the consumer still runs comes back to it through XAUTOCLAIM when its idle-time reset (touch) was
// lost: it must not run, be acked or be counted a second time.
import { createContext, type IntegrationContext } from '@dromedary/core'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { counter, deferred } from '../../../test/support/observe.js'
import { redisComponent } from '../src/index.js'
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

/** The delivery count the group's pending list holds for `id`. */
async function deliveries(stream: string, id: string): Promise<number> {
  const rows: unknown = await redis.client.sendCommand(['XPENDING', stream, 'g', id, id, '1'])
  const row = (rows as Array<[string, string, number, number]>)[0]
  return Number(row?.[3] ?? 0)
}

describe('redis consumer: an entry claimed again while it runs here', () => {
  it('runs once, is acked once and counted once', async () => {
    const stream = redis.key('reclaim')
    const [id] = await redis.add(stream, [{ n: 1 }])
    const gate = deferred()
    const entered = deferred()
    let runs = 0
    const ctx = context()
    await ctx.addRoutes((r) =>
      r
        .from(
          `redis:stream:${stream}?group=g&consumer=c1&batch=4&blockMs=100&minIdleMs=3000&claimIntervalMs=50`,
        )
        .routeId('a')
        .process(async () => {
          runs++
          entered.resolve()
          await gate.promise
        }),
    )
    await ctx.start()
    await entered.promise
    expect(await deliveries(stream, id!)).toBe(1)
    // As if the consumer's touches had failed: the entry it runs looks idle for long.
    await redis.client.sendCommand(['XCLAIM', stream, 'g', 'c1', '0', id!, 'IDLE', '100000', 'JUSTID'])
    // XAUTOCLAIM (every 50 ms) takes it over again: that counts a delivery.
    await vi.waitFor(async () => expect(await deliveries(stream, id!)).toBe(2), { timeout: 5000 })
    gate.resolve()
    await ctx.stop()
    expect(runs).toBe(1)
    expect(await redis.pendingCount(stream, 'g')).toBe(0)
    expect(await counter(ctx, 'dromedary_redis_messages_total', { stream, outcome: 'acked' })).toBe(1)
  })
})
