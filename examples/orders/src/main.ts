import { createOrdersApp } from './app.js'
import { startTracing } from './tracing.js'

// The main job: `pnpm start` from the repository root. Ctrl-C drains gracefully; a second Ctrl-C forces.
const env = process.env
// Before the context starts: OTEL_EXPORTER_OTLP_ENDPOINT set → spans go to that OTLP collector.
const stopTracing = await startTracing(env)
const { ctx, startManagement } = createOrdersApp({
  port: Number(env.PORT ?? 8080),
  managementPort: Number(env.MANAGEMENT_PORT ?? 9464),
  host: env.HOST ?? '127.0.0.1',
  managementHost: env.MANAGEMENT_HOST ?? '127.0.0.1',
  amqpUrl: env.AMQP_URL,
  adminToken: env.DROMEDARY_ADMIN_TOKEN,
  paymentDelayMs: Number(env.PAYMENT_DELAY_MS ?? 200),
  shutdownTimeoutMs: Number(env.SHUTDOWN_TIMEOUT_MS ?? 30_000),
  preStopDelayMs: Number(env.PRE_STOP_DELAY_MS ?? 0),
})

const management = await startManagement()
const managementUrl = `http://${env.MANAGEMENT_HOST ?? '127.0.0.1'}:${env.MANAGEMENT_PORT ?? 9464}`
ctx.events$.subscribe((e) => {
  if (e.type === 'context-started')
    ctx.logger.info(
      {},
      `Orders app ready: POST http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? 8080}/orders, console ${managementUrl}/, metrics ${managementUrl}/metrics (${env.AMQP_URL === undefined ? 'in-memory queue' : 'RabbitMQ queue'})`,
    )
})
let report
try {
  // exit: false, to close the management server after the context stopped: its console shows the outcome.
  report = await ctx.run({ exit: false })
} catch (err) {
  // e.g. the port is taken or RabbitMQ is unreachable: say so in one line instead of a stack trace.
  ctx.logger.error({ err }, `Orders app failed to start: ${err instanceof Error ? err.message : String(err)}`)
  await management.close()
  process.exit(1)
}
await management.close()
await stopTracing?.()
process.exit(report.graceful ? 0 : 1)
