// One sample of nats-consume (msgs/s) and nats-consume-cpu (client CPU µs per message), in its own process.
// ours:     a route from('nats:stream:…?consumer=bench&batch=100') with one step counting the (JSON-parsed)
//           body; the component acks each message when its exchange completes.
// baseline: @nats-io/jetstream `consume({ max_messages: 100 })` on the same durable consumer: parse the JSON
//           data, count, ack.
// Both consume the same pre-filled stream; the window runs from the first message to the last one.
import { createContext } from '@dromedary/core'
import { natsComponent } from '@dromedary/nats'
import { params, reportResult } from '../lib/child.mjs'
import { consumeResult, meter } from '../lib/meter.mjs'
import { CONSUMER, NATS_SERVER, natsClients, PULL_BATCH, STREAM } from './nats.mjs'

const { side, count, warmupCount = 0 } = params()

async function consumeOurs() {
  const { tick, done } = meter(count, warmupCount)
  const ctx = createContext({ logger: false, components: { nats: natsComponent({ servers: NATS_SERVER }) } })
  ctx.addRoutes((r) =>
    r
      .from(`nats:stream:${STREAM}?consumer=${CONSUMER}&batch=${PULL_BATCH}`)
      .process((ex) => tick(ex.message.body)),
  )
  await ctx.start()
  const window = await done
  await ctx.stop()
  return window
}

async function consumeBaseline() {
  const { tick, done } = meter(count, warmupCount)
  const { transport, jetstream } = await natsClients()
  const nc = await transport.connect({ servers: NATS_SERVER })
  const js = jetstream.jetstream(nc)
  const consumer = await js.consumers.get(STREAM, CONSUMER)
  const messages = await consumer.consume({ max_messages: PULL_BATCH })
  let seen = 0
  for await (const m of messages) {
    tick(JSON.parse(new TextDecoder().decode(m.data)))
    m.ack()
    if (++seen === warmupCount + count) break
  }
  const window = await done
  await nc.drain()
  return window
}

await reportResult(async () =>
  consumeResult(count, side === 'ours' ? await consumeOurs() : await consumeBaseline()),
)
