// Re-creates the benchmark stream and its consumer group, then adds `count` JSON entries (as @dromedary/redis
// writes them: body + content-type), in its own process. Both sides consume exactly this.
import { params, reportResult } from '../lib/child.mjs'
import { GROUP, redisClient, STREAM } from './redis.mjs'

const { count } = params()

await reportResult(async () => {
  const client = await redisClient()
  await client.sendCommand(['DEL', STREAM])
  await client.sendCommand(['XGROUP', 'CREATE', STREAM, GROUP, '0', 'MKSTREAM'])
  for (let i = 0; i < count; i += 1000) {
    const batch = []
    for (let k = i; k < Math.min(count, i + 1000); k++) {
      const body = JSON.stringify({ id: k, sku: 'A-1', qty: 2, total: 19.9 })
      batch.push(client.sendCommand(['XADD', STREAM, '*', 'body', body, 'content-type', 'application/json']))
    }
    await Promise.all(batch)
  }
  const len = Number(await client.sendCommand(['XLEN', STREAM]))
  await client.close()
  if (len !== count) throw new Error(`stream holds ${len} entries, expected ${count}`)
  return { filled: len }
})
