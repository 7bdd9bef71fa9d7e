// The publisher that pre-fills the consume queue, in its own process: `count` non-persistent JSON messages
// on a confirm channel, all confirmed before it reports. Both sides consume exactly this.
import { params, reportResult } from '../lib/child.mjs'
import { AMQP_URL, amqplib, CONSUME_QUEUE, orderBody, resetQueue } from './broker.mjs'

const { count } = params()

await reportResult(async () => {
  await resetQueue(CONSUME_QUEUE)
  const amqp = await amqplib()
  const conn = await amqp.connect(AMQP_URL)
  const ch = await conn.createConfirmChannel()
  for (let i = 0; i < count; i++) {
    const content = Buffer.from(JSON.stringify(orderBody(i)))
    const ok = ch.sendToQueue(CONSUME_QUEUE, content, { contentType: 'application/json', persistent: false })
    if (!ok) await new Promise((resolve) => ch.once('drain', resolve))
  }
  await ch.waitForConfirms()
  const { messageCount } = await ch.checkQueue(CONSUME_QUEUE)
  await conn.close()
  if (messageCount !== count) throw new Error(`queue holds ${messageCount} messages, expected ${count}`)
  return { filled: messageCount }
})
