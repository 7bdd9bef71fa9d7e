// One sample of amqp-consume+tracing (msgs/s and client CPU µs per message), in its own process, with the
// OpenTelemetry SDK registered on both sides (sdk.mjs, no-op exporter).
// ours:     the amqp-consume route (one step counting the JSON-parsed body): Dromedary's CONSUMER span per
//           exchange, no auto-instrumentation.
// baseline: amqplib consume with prefetch 100 under @opentelemetry/instrumentation-amqplib (its CONSUMER
//           span per message): parse the JSON content, count, ack.
// Each side checks it really recorded one span per message, so a silently disabled tracer cannot win.
import { createRequire } from 'node:module'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib'
import { params, reportResult } from '../lib/child.mjs'
import { consumeResult, meter } from '../lib/meter.mjs'
import { AMQP_URL, CONSUME_QUEUE } from '../amqp/broker.mjs'
import { registerSdk } from './sdk.mjs'

const { side, count, warmupCount = 0 } = params()
const PREFETCH = 100
const { provider, exporter } = registerSdk()

async function consumeOurs() {
  const { createContext } = await import('@dromedary/core')
  const { amqpComponent } = await import('@dromedary/amqp')
  const { tick, done } = meter(count, warmupCount)
  const ctx = createContext({ logger: false, components: { amqp: amqpComponent({ url: AMQP_URL }) } })
  await ctx.addRoutes((r) =>
    r.from(`amqp:queue:${CONSUME_QUEUE}?prefetch=${PREFETCH}`).process((ex) => tick(ex.message.body)),
  )
  await ctx.start()
  const window = await done
  await ctx.stop()
  return window
}

async function consumeBaseline() {
  registerInstrumentations({ instrumentations: [new AmqplibInstrumentation()], tracerProvider: provider })
  // Required after the instrumentation is registered, so it loads patched (the build @dromedary/amqp uses).
  const amqp = createRequire(new URL('../../../packages/amqp/package.json', import.meta.url))('amqplib')
  const { tick, done } = meter(count, warmupCount)
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
  const window = side === 'ours' ? await consumeOurs() : await consumeBaseline()
  await provider.forceFlush()
  if (exporter.exported < warmupCount + count)
    throw new Error(`${side}: ${exporter.exported} spans exported for ${warmupCount + count} messages`)
  const result = consumeResult(count, window)
  await provider.shutdown()
  return result
})
