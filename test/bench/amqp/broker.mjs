// What the AMQP benchmarks share: the broker, the queues, the message both sides send and receive.
import { importDependencyOf } from '../lib/deps.mjs'

export const AMQP_URL = process.env.DROMEDARY_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
export const CONSUME_QUEUE = 'dromedary.bench.consume'
export const PUBLISH_QUEUE = 'dromedary.bench.publish'
/** What `amqp:queue:NAME` declares by default, so both sides use the very same queue. */
export const QUEUE_OPTIONS = { durable: true, exclusive: false, autoDelete: false, arguments: {} }

/** The body of every message (sent as JSON). */
export function orderBody(i) {
  return { id: i, sku: 'A-1', qty: 2, total: 19.9 }
}

/** amqplib, the same build @dromedary/amqp uses. */
export const amqplib = () => importDependencyOf('amqp', 'amqplib')

/** Declares `queue` as our consumer would and empties it. */
export async function resetQueue(queue) {
  const amqp = await amqplib()
  const conn = await amqp.connect(AMQP_URL)
  try {
    const ch = await conn.createChannel()
    await ch.assertQueue(queue, QUEUE_OPTIONS)
    await ch.purgeQueue(queue)
    await ch.close()
  } finally {
    await conn.close()
  }
}
