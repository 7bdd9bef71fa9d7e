// One sample of amqp-publish (msgs/s), in its own process. 100 senders keep 100 publishes in flight; each
// waits for the broker's confirm before sending the next.
// ours:     ProducerTemplate → route from('direct:publish').to('amqp:queue:…'): a persistent, mandatory
//           publish on a confirm channel, the exchange completing on the confirm.
// baseline: amqplib confirm channel sendToQueue with the same content and options, awaiting its callback.
import { createContext } from '@dromedary/core'
import { amqpComponent } from '@dromedary/amqp'
import { params, reportResult } from '../lib/child.mjs'
import { AMQP_URL, amqplib, orderBody, PUBLISH_QUEUE, resetQueue } from './broker.mjs'

const { side, warmupCount, count } = params()
const IN_FLIGHT = 100

async function setUpOurs() {
  const ctx = createContext({ logger: false, components: { amqp: amqpComponent({ url: AMQP_URL }) } })
  ctx.addRoutes((r) => r.from('direct:publish').to(`amqp:queue:${PUBLISH_QUEUE}`))
  await ctx.start()
  const producer = ctx.producer()
  const publish = async (i) => {
    const ex = await producer.send('direct:publish', orderBody(i))
    if (ex.exception !== undefined) throw ex.exception
  }
  return { publish, close: () => ctx.stop() }
}

async function setUpBaseline() {
  const amqp = await amqplib()
  const conn = await amqp.connect(AMQP_URL)
  const ch = await conn.createConfirmChannel()
  // What our producer sends: JSON content, persistent, mandatory (a queue producer's default), a message id.
  const publish = (i) =>
    new Promise((resolve, reject) => {
      const content = Buffer.from(JSON.stringify(orderBody(i)))
      const options = {
        contentType: 'application/json',
        persistent: true,
        mandatory: true,
        messageId: `bench-${i}`,
        headers: {},
      }
      ch.sendToQueue(PUBLISH_QUEUE, content, options, (err) => (err ? reject(err) : resolve()))
    })
  return { publish, close: () => conn.close() }
}

/** Publishes `n` messages with IN_FLIGHT senders; resolves with the seconds it took. */
async function run(publish, n) {
  let next = 0
  const sender = async () => {
    while (next < n) await publish(next++)
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender))
  return (performance.now() - start) / 1000
}

await reportResult(async () => {
  await resetQueue(PUBLISH_QUEUE)
  const { publish, close } = side === 'ours' ? await setUpOurs() : await setUpBaseline()
  await run(publish, warmupCount)
  const seconds = await run(publish, count)
  await close()
  await resetQueue(PUBLISH_QUEUE)
  return { messagesPerSecond: count / seconds }
})
