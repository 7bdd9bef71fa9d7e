// NATS benchmarks against a hand-written @nats-io/jetstream pull consumer on the local server. The filler runs in
// its own process; one fresh consumer process per sample.
import { runOnce } from '../lib/child.mjs'
import { importDependencyOf } from '../lib/deps.mjs'

const fill = new URL('./fill.child.mjs', import.meta.url)
const consume = new URL('./consume.child.mjs', import.meta.url)

export const NATS_SERVER = process.env.DROMEDARY_BENCH_NATS_SERVER ?? '127.0.0.1:4222'
export const STREAM = 'DROMEDARY_BENCH_CONSUME'
export const CONSUMER = 'bench'
export const PULL_BATCH = 100

/** The NATS client modules, the same builds @dromedary/nats uses. */
export async function natsClients() {
  return {
    transport: await importDependencyOf('nats', '@nats-io/transport-node'),
    jetstream: await importDependencyOf('nats', '@nats-io/jetstream'),
  }
}

export const natsConsume = {
  name: 'nats-consume',
  rows: [
    { name: 'nats-consume', unit: 'msgs/s', metric: 'messagesPerSecond', better: 'higher', target: 0.9 },
    {
      name: 'nats-consume-cpu',
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
    const { transport, jetstream } = await natsClients()
    const nc = await transport.connect({ servers: NATS_SERVER })
    const jsm = await jetstream.jetstreamManager(nc)
    await jsm.streams.delete(STREAM).catch(() => undefined)
    await nc.drain()
  },
}
