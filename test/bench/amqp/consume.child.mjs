// One sample of amqp-consume (msgs/s) and amqp-consume-cpu (client CPU µs per message), in its own process.
// ours:     a route from('amqp:queue:…?prefetch=100') with one step counting the (JSON-parsed) body; the
//           component acks each message when its exchange completes.
// baseline: amqplib consume with prefetch 100: parse the JSON content, count, ack.
// Both consume the same pre-filled queue; the clock and process.cpuUsage run from the first message to the
// last one, so connecting and declaring are outside the window on both sides.
import { createContext } from '@dromedary/core'
import { amqpComponent } from '@dromedary/amqp'
import { params, reportResult } from '../lib/child.mjs'
import { AMQP_URL, amqplib, CONSUME_QUEUE } from './broker.mjs'

const { side, count } = params()
const PREFETCH = 100

/** Counts messages; resolves `done` with the window's wall and CPU time once `count` have been seen. */
function meter() {
  let n = 0
  let t0 = 0
  let cpu0
  let finish
  const done = new Promise((resolve) => (finish = resolve))
  const tick = (body) => {
    if (typeof body?.id !== 'number') throw new Error('body was not parsed')
    if (++n === 1) {
      t0 = performance.now()
      cpu0 = process.cpuUsage()
    } else if (n === count) {
      const cpu = process.cpuUsage(cpu0)
      finish({ ms: performance.now() - t0, cpuMicros: cpu.user + cpu.system })
    }
  }
  return { tick, done }
}

async function consumeOurs() {
  const { tick, done } = meter()
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
  const { tick, done } = meter()
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

await reportResult(async () => {
  const { ms, cpuMicros } = side === 'ours' ? await consumeOurs() : await consumeBaseline()
  // The window spans count - 1 intervals between the first message and the last.
  return { messagesPerSecond: ((count - 1) * 1000) / ms, cpuMicrosPerMessage: cpuMicros / (count - 1) }
})
