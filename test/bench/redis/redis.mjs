// Redis benchmarks against hand-written node-redis code on the local server: consuming a stream through a
// consumer group (XREADGROUP/XACK), and the idempotent repository (SET NX EX). One fresh process per sample.
import { runOnce } from '../lib/child.mjs'
import { importDependencyOf } from '../lib/deps.mjs'

const fill = new URL('./fill.child.mjs', import.meta.url)
const consume = new URL('./consume.child.mjs', import.meta.url)
const idempotent = new URL('./idempotent.child.mjs', import.meta.url)

export const REDIS_URL = process.env.DROMEDARY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const STREAM = 'dromedary:bench:consume'
export const GROUP = 'bench'
export const READ_COUNT = 100
export const IDEM_PREFIX = 'dromedary:bench:idem:'

/** node-redis, the same build @dromedary/redis uses, connected with RESP2. */
export async function redisClient() {
  const { createClient } = await importDependencyOf('redis', 'redis')
  const client = createClient({ url: REDIS_URL, RESP: 2 })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

export const redisConsume = {
  name: 'redis-consume',
  rows: [
    { name: 'redis-consume', unit: 'msgs/s', metric: 'messagesPerSecond', better: 'higher', target: 0.9 },
    {
      name: 'redis-consume-cpu',
      unit: 'µs CPU/msg',
      metric: 'cpuMicrosPerMessage',
      better: 'lower',
      target: 1.3,
    },
  ],
  quick: { pairs: 5, warmupCount: 5_000, count: 15_000 },
  full: { pairs: 9, warmupCount: 10_000, count: 50_000 },
  async sample(side, c) {
    await runOnce(fill, { count: c.warmupCount + c.count }, { profile: false })
    return runOnce(consume, { side, warmupCount: c.warmupCount, count: c.count })
  },
  async after() {
    const client = await redisClient()
    await client.sendCommand(['DEL', STREAM])
    await client.close()
  },
}

export const idempotentRedis = {
  name: 'idempotent-redis',
  rows: [
    { name: 'idempotent-redis', unit: 'adds/s', metric: 'addsPerSecond', better: 'higher', target: 0.9 },
  ],
  quick: { pairs: 5, count: 20_000, concurrency: 50 },
  full: { pairs: 9, count: 60_000, concurrency: 50 },
  sample: (side, c) => runOnce(idempotent, { side, count: c.count, concurrency: c.concurrency }),
}
