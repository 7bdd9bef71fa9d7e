// AMQP benchmarks against raw amqplib on the local RabbitMQ. The filler (publisher) and the consumer under
// test run in separate processes; one fresh consumer or publisher process per sample.
import { runOnce } from '../lib/child.mjs'
import { CONSUME_QUEUE, PUBLISH_QUEUE, resetQueue } from './broker.mjs'

const fill = new URL('./fill.child.mjs', import.meta.url)
const consume = new URL('./consume.child.mjs', import.meta.url)
const publish = new URL('./publish.child.mjs', import.meta.url)
const inbox = new URL('./inbox.child.mjs', import.meta.url)

export const amqpConsume = {
  name: 'amqp-consume',
  rows: [
    { name: 'amqp-consume', unit: 'msgs/s', metric: 'messagesPerSecond', better: 'higher', target: 0.9 },
    {
      name: 'amqp-consume-cpu',
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
  after: () => resetQueue(CONSUME_QUEUE),
}

// Our route against a Rascal subscription (what users might pick instead): same queue, prefetch, handler,
// message count and size as amqp-consume.
export const amqpConsumeRascal = {
  name: 'amqp-consume-rascal',
  rows: [
    {
      name: 'amqp-consume-rascal',
      unit: 'msgs/s',
      metric: 'messagesPerSecond',
      better: 'higher',
      target: 1.0,
    },
    {
      name: 'amqp-consume-rascal-cpu',
      unit: 'µs CPU/msg',
      metric: 'cpuMicrosPerMessage',
      better: 'lower',
      target: 1.0,
    },
  ],
  quick: amqpConsume.quick,
  full: amqpConsume.full,
  async sample(side, c) {
    await runOnce(fill, { count: c.warmupCount + c.count }, { profile: false })
    return runOnce(consume, {
      side: side === 'ours' ? 'ours' : 'rascal',
      warmupCount: c.warmupCount,
      count: c.count,
    })
  },
  after: () => resetQueue(CONSUME_QUEUE),
}

export const amqpPublish = {
  name: 'amqp-publish',
  rows: [
    { name: 'amqp-publish', unit: 'msgs/s', metric: 'messagesPerSecond', better: 'higher', target: 0.85 },
  ],
  quick: { pairs: 5, warmupCount: 2_000, count: 10_000 },
  full: { pairs: 9, warmupCount: 5_000, count: 30_000 },
  sample: (side, c) => runOnce(publish, { side, warmupCount: c.warmupCount, count: c.count }),
  after: () => resetQueue(PUBLISH_QUEUE),
}

export const amqpConsumeInbox = {
  name: 'amqp-consume+inbox',
  rows: [
    {
      name: 'amqp-consume+inbox',
      unit: 'msgs/s',
      metric: 'messagesPerSecond',
      better: 'higher',
      target: 0.9,
    },
  ],
  quick: { pairs: 5, count: 3_000 },
  full: { pairs: 9, count: 10_000 },
  async sample(side, c) {
    await runOnce(fill, { count: c.count }, { profile: false })
    return runOnce(inbox, { side, count: c.count })
  },
  after: () => resetQueue(CONSUME_QUEUE),
}
