// One sample of idempotent-redis (adds/s), in its own process: `count` distinct keys added with `concurrency`
// adds in flight at once.
// ours:     redisIdempotentRepository({ client }).add(key) (SET prefix+key 1 NX EX 86400, answer === 'OK').
// baseline: the same SET … NX EX through the same node-redis client, written by hand.
import { redisIdempotentRepository } from '@dromedary/redis'
import { params, reportResult } from '../lib/child.mjs'
import { IDEM_PREFIX, redisClient } from './redis.mjs'

const { side, count, concurrency } = params()

await reportResult(async () => {
  const client = await redisClient()
  const run = `${IDEM_PREFIX}${side}:${process.pid}:`
  const repo = redisIdempotentRepository({ client, keyPrefix: run })
  const add =
    side === 'ours'
      ? (key) => repo.add(key)
      : async (key) => (await client.sendCommand(['SET', run + key, '1', 'NX', 'EX', '86400'])) === 'OK'
  let next = 0
  let added = 0
  const worker = async () => {
    while (next < count) if (await add(`order-${next++}`)) added++
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const ms = performance.now() - t0
  if (added !== count) throw new Error(`${added} of ${count} adds were new`)
  await repo.clear()
  await client.close()
  return { addsPerSecond: (count * 1000) / ms }
})
