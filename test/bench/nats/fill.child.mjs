// Re-creates the benchmark stream and its durable pull consumer, then publishes `count` JSON messages with
// acks, in its own process. Both sides consume exactly this.
import { params, reportResult } from '../lib/child.mjs'
import { CONSUMER, NATS_SERVER, natsClients, STREAM } from './nats.mjs'

const { count } = params()

await reportResult(async () => {
  const { transport, jetstream } = await natsClients()
  const nc = await transport.connect({ servers: NATS_SERVER })
  const jsm = await jetstream.jetstreamManager(nc)
  await jsm.streams.delete(STREAM).catch(() => undefined)
  await jsm.streams.add({ name: STREAM, subjects: [`${STREAM}.>`] })
  await jsm.consumers.add(STREAM, {
    durable_name: CONSUMER,
    ack_policy: jetstream.AckPolicy.Explicit,
    ack_wait: 30e9,
    max_deliver: -1,
  })
  const js = jetstream.jetstream(nc)
  const h = transport.headers()
  h.set('Content-Type', 'application/json')
  for (let i = 0; i < count; i += 1000) {
    const batch = []
    for (let k = i; k < Math.min(count, i + 1000); k++)
      batch.push(
        js.publish(`${STREAM}.orders`, JSON.stringify({ id: k, sku: 'A-1', qty: 2, total: 19.9 }), {
          headers: h,
        }),
      )
    await Promise.all(batch)
  }
  const { state } = await jsm.streams.info(STREAM)
  await nc.drain()
  if (state.messages !== count) throw new Error(`stream holds ${state.messages} messages, expected ${count}`)
  return { filled: state.messages }
})
