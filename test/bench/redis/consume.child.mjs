// One sample of redis-consume (msgs/s) and redis-consume-cpu (client CPU µs per message), in its own process.
// ours:     a route from('redis:stream:…?group=bench&batch=100') with one step counting the (JSON-parsed) body;
//           the component acks each entry when its exchange completes.
// baseline: a node-redis loop on a dedicated connection: XREADGROUP COUNT 100 BLOCK, parse each body, count,
//           then one XACK for the batch on a second connection.
// Both consume the same pre-filled stream; the window runs from the first message to the last one.
import { createContext } from '@dromedary/core'
import { redisComponent } from '@dromedary/redis'
import { params, reportResult } from '../lib/child.mjs'
import { consumeResult, meter } from '../lib/meter.mjs'
import { GROUP, READ_COUNT, REDIS_URL, redisClient, STREAM } from './redis.mjs'

const { side, count, warmupCount = 0 } = params()

async function consumeOurs() {
  const { tick, done } = meter(count, warmupCount)
  const ctx = createContext({ logger: false, components: { redis: redisComponent({ url: REDIS_URL }) } })
  ctx.addRoutes((r) =>
    r
      .from(`redis:stream:${STREAM}?group=${GROUP}&consumer=ours&batch=${READ_COUNT}`)
      .process((ex) => tick(ex.message.body)),
  )
  await ctx.start()
  const window = await done
  await ctx.stop()
  return window
}

async function consumeBaseline() {
  const { tick, done } = meter(count, warmupCount)
  const reader = await redisClient()
  const commands = await redisClient()
  let seen = 0
  while (seen < warmupCount + count) {
    const reply = await reader.sendCommand([
      'XREADGROUP',
      'GROUP',
      GROUP,
      'baseline',
      'COUNT',
      String(READ_COUNT),
      'BLOCK',
      '2000',
      'STREAMS',
      STREAM,
      '>',
    ])
    if (reply === null) continue
    const ids = []
    for (const [id, fields] of reply[0][1]) {
      tick(JSON.parse(fields[fields.indexOf('body') + 1]))
      ids.push(id)
      seen++
    }
    void commands.sendCommand(['XACK', STREAM, GROUP, ...ids])
  }
  const window = await done
  await commands.close()
  await reader.close()
  return window
}

await reportResult(async () =>
  consumeResult(count, side === 'ours' ? await consumeOurs() : await consumeBaseline()),
)
