import { isDromedaryError } from '@dromedary/core'
import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'
import { RedisErrorCodes, redisIdempotentRepository } from '../src/index.js'
import { REDIS_URL, useRedis, type RedisOracle } from './support/server.js'

const suite = useRedis()
let redis: RedisOracle
beforeEach(() => {
  redis = suite.redis
})

/** A repository on the oracle's client with a prefix unique to this test (its keys are cleaned up). */
function repository(ttlSeconds?: number) {
  const prefix = `${redis.key('idem')}:`
  return {
    prefix,
    repo: redisIdempotentRepository({
      client: redis.client,
      keyPrefix: prefix,
      ...(ttlSeconds ? { ttlSeconds } : {}),
    }),
  }
}

async function keysOf(prefix: string): Promise<string[]> {
  return await redis.client.sendCommand<string[]>(['KEYS', `${prefix}*`])
}

describe('redisIdempotentRepository', () => {
  it('adds a key once, knows it, forgets it on remove', async () => {
    const { repo, prefix } = repository()
    expect(await repo.add('order-1')).toBe(true)
    expect(await repo.add('order-1')).toBe(false)
    expect(await repo.contains('order-1')).toBe(true)
    expect(await repo.contains('order-2')).toBe(false)
    repo.confirm('order-1')
    await repo.remove('order-1')
    expect(await repo.contains('order-1')).toBe(false)
    expect(await repo.add('order-1')).toBe(true)
    await redis.client.sendCommand(['DEL', ...(await keysOf(prefix))])
  })

  it('sets the TTL with the key', async () => {
    const { repo, prefix } = repository(120)
    await repo.add('k')
    const ttl = Number(await redis.client.sendCommand(['TTL', `${prefix}k`]))
    expect(ttl).toBeGreaterThan(100)
    expect(ttl).toBeLessThanOrEqual(120)
    await repo.clear()
  })

  it('clear() deletes its own prefix only, also with glob characters in the prefix', async () => {
    const base = redis.key('glob')
    const mine = redisIdempotentRepository({ client: redis.client, keyPrefix: `${base}:a*[x]:` })
    const other = redisIdempotentRepository({ client: redis.client, keyPrefix: `${base}:ab:` })
    for (let i = 0; i < 1200; i++) await mine.add(`k${i}`)
    await other.add('keep')
    await mine.clear()
    expect(await mine.contains('k5')).toBe(false)
    expect(await other.contains('keep')).toBe(true)
    await other.clear()
    expect(await keysOf(`${base}:`)).toEqual([])
  })

  it('concurrent adds of the same key: exactly one is true (property)', async () => {
    const { repo } = repository()
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 2, max: 40 }),
        async (key, n) => {
          const results = await Promise.all(Array.from({ length: n }, () => repo.add(key)))
          await repo.remove(key)
          expect(results.filter(Boolean).length).toBe(1)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('concurrent adds from two repositories with their own connections: exactly one is true', async () => {
    const prefix = `${redis.key('two')}:`
    const a = redisIdempotentRepository({ url: REDIS_URL, keyPrefix: prefix })
    const b = redisIdempotentRepository({ url: REDIS_URL, keyPrefix: prefix })
    try {
      for (let i = 0; i < 50; i++) {
        const results = await Promise.all([a.add(`k${i}`), b.add(`k${i}`), a.add(`k${i}`), b.add(`k${i}`)])
        expect(results.filter(Boolean).length).toBe(1)
      }
      await a.clear()
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('fails with DROMEDARY_ERR_REDIS_COMMAND_FAILED when Redis cannot be reached', async () => {
    const repo = redisIdempotentRepository({ url: 'redis://127.0.0.1:1' })
    const err = await repo.add('x').catch((e: unknown) => e)
    expect(isDromedaryError(err, RedisErrorCodes.COMMAND_FAILED)).toBe(true)
    await repo.close()
  })

  it.each([
    [{ ttlSeconds: 0 }, 'ttlSeconds'],
    [{ ttlSeconds: -1 }, 'ttlSeconds'],
    [{ ttlSeconds: 1.5 }, 'ttlSeconds'],
    [{ ttlSeconds: Number.NaN }, 'ttlSeconds'],
    [{ ttlSeconds: 2 ** 32 }, 'ttlSeconds'],
    [{ keyPrefix: 7 }, 'keyPrefix'],
    [{ url: 'http://x' }, 'url'],
    [{ client: {}, url: REDIS_URL }, 'not both'],
    [{ client: {} }, 'client'],
  ])('refuses %j with DROMEDARY_ERR_REDIS_INVALID_CONFIG', (options, part) => {
    let err: unknown
    try {
      redisIdempotentRepository(options as never)
    } catch (e) {
      err = e
    }
    expect(isDromedaryError(err, RedisErrorCodes.INVALID_CONFIG)).toBe(true)
    expect((err as Error).message).toContain(part)
  })
})
