// The Rascal side of amqp-consume-rascal: what a user who picked Rascal instead would write for the same
// job. A broker from Rascal's default config with one vhost, the queue checked (declared with the options our
// consumer uses), one subscription with the same prefetch; Rascal parses the JSON content and the handler
// counts the body and acks through Rascal's `ackOrNack`. Everything else is Rascal's default behaviour.
import { createRequire } from 'node:module'
import { meter } from '../lib/meter.mjs'
import { AMQP_URL, CONSUME_QUEUE, QUEUE_OPTIONS } from './broker.mjs'

const { BrokerAsPromised, withDefaultConfig } = createRequire(import.meta.url)('rascal')

/** Consumes `warmup + count` messages with `prefetch`; resolves with the meter's window (after the warm-up). */
export async function consumeRascal(count, prefetch, warmup = 0) {
  const { tick, done } = meter(count, warmup)
  const config = withDefaultConfig({
    vhosts: {
      '/': {
        connection: { url: AMQP_URL },
        queues: { [CONSUME_QUEUE]: { options: QUEUE_OPTIONS } },
        subscriptions: { bench: { queue: CONSUME_QUEUE, prefetch } },
      },
    },
  })
  const broker = await BrokerAsPromised.create(config)
  let failure
  const failed = new Promise((_, reject) => (failure = reject))
  broker.on('error', (err) => failure(err))
  try {
    const subscription = await broker.subscribe('bench')
    subscription.on('error', (err) => failure(err))
    subscription.on('message', (message, content, ackOrNack) => {
      tick(content)
      ackOrNack()
    })
    const window = await Promise.race([done, failed])
    await subscription.cancel()
    return window
  } finally {
    await broker.shutdown()
  }
}
