import { createPipelineApp } from './app.js'
import { declareTopology, pipelineNames } from './topology.js'

// `pnpm --filter amqp-pipeline start` with RabbitMQ on AMQP_URL: declares the topology, seeds six messages
// (two of them poison), and runs the pipeline until Ctrl-C / SIGTERM, which drains it gracefully.
const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const names = pipelineNames(process.env.PIPELINE_PREFIX ?? 'pipeline')

await declareTopology(url, names)
const { ctx, seed } = createPipelineApp({ amqpUrl: url, names })
ctx.events$.subscribe((e) => {
  if (e.type !== 'context-started') return
  ctx.logger.info(
    {},
    `AMQP pipeline ready: ${names.input} -> ${names.events} (dead letters via ${names.dlx} to ${names.dead})`,
  )
  seed().catch((err: unknown) => ctx.logger.error({ err }, 'Seeding the input queue failed'))
})
await ctx.run()
