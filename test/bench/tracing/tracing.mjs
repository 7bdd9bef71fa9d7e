// amqp-consume+tracing: the amqp-consume benchmark with an OpenTelemetry SDK registered (no-op exporter) on
// both sides: our route's own spans against raw amqplib under its auto-instrumentation.
import { runOnce } from '../lib/child.mjs'
import { CONSUME_QUEUE, resetQueue } from '../amqp/broker.mjs'

const fill = new URL('../amqp/fill.child.mjs', import.meta.url)
const consume = new URL('./consume-traced.child.mjs', import.meta.url)

export const amqpConsumeTracing = {
  name: 'amqp-consume+tracing',
  rows: [
    {
      name: 'amqp-consume+tracing',
      unit: 'msgs/s',
      metric: 'messagesPerSecond',
      better: 'higher',
      target: 0.9,
    },
  ],
  quick: { pairs: 5, warmupCount: 5_000, count: 15_000 },
  full: { pairs: 9, warmupCount: 10_000, count: 50_000 },
  async sample(side, c) {
    await runOnce(fill, { count: c.warmupCount + c.count }, { profile: false })
    return runOnce(consume, { side, warmupCount: c.warmupCount, count: c.count })
  },
  after: () => resetQueue(CONSUME_QUEUE),
}
