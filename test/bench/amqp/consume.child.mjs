// One sample of amqp-consume (msgs/s) and amqp-consume-cpu (client CPU µs per message), in its own process.
// ours:     a route from('amqp:queue:…?prefetch=100') with one step counting the (JSON-parsed) body; the
//           component acks each message when its exchange completes.
// baseline: amqplib consume with prefetch 100: parse the JSON content, count, ack.
// rascal (amqp-consume-rascal's baseline): a Rascal subscription with prefetch 100, the same count and ack
//           (see rascal-consumer.mjs).
// Both consume the same pre-filled queue; the clock and process.cpuUsage run from the first message to the
// last one, so connecting and declaring are outside the window on both sides.
import { createContext } from '@dromedary/core'
import { amqpComponent } from '@dromedary/amqp'
import { params, reportResult } from '../lib/child.mjs'
import { consumeResult, meter } from '../lib/meter.mjs'
import { AMQP_URL, amqplib, CONSUME_QUEUE } from './broker.mjs'
import { consumeRascal } from './rascal-consumer.mjs'

const { side, count, warmupCount = 0 } = params()
const PREFETCH = 100

async function consumeOurs() {
  const { tick, done } = meter(count, warmupCount)
  const ctx = createContext({ logger: false, components: { amqp: amqpComponent({ url: AMQP_URL }) } })
  ctx.addRoutes((r) =>
    r.from(`amqp:queue:${CONSUME_QUEUE}?prefetch=${PREFETCH}`).process((ex) => tick(ex.message.body)),
  )
  await ctx.start()
  const window = await done
  await ctx.stop()
  return window
}

async function consumeBaseline() {
  const { tick, done } = meter(count, warmupCount)
  const amqp = await amqplib()
  const conn = await amqp.connect(AMQP_URL)
  const ch = await conn.createChannel()
  await ch.prefetch(PREFETCH)
  await ch.consume(CONSUME_QUEUE, (msg) => {
    tick(JSON.parse(msg.content.toString('utf8')))
    ch.ack(msg)
  })
  const window = await done
  await ch.close()
  await conn.close()
  return window
}

const consumers = {
  ours: consumeOurs,
  baseline: consumeBaseline,
  rascal: () => consumeRascal(count, PREFETCH, warmupCount),
}

await reportResult(async () => consumeResult(count, await consumers[side]()))
