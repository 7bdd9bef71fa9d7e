import amqplib from 'amqplib'
import pg from 'pg'
import { createEffectTables, createPaymentsApp, paymentsNames, type Payment } from './app.js'

// `pnpm --filter payments-inbox start` with RabbitMQ on AMQP_URL and PostgreSQL on DATABASE_URL: creates the
// tables and queues, publishes three payments — one of them twice with the same message id, as a producer
// retrying after a lost confirm would — and runs until Ctrl-C / SIGTERM.
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const names = paymentsNames(process.env.PAYMENTS_PREFIX ?? 'payments')

const pool = new pg.Pool({ connectionString: databaseUrl, max: 25 })
pool.on('error', (err) => ctx.logger.warn({ err }, 'Idle PostgreSQL client failed'))
await createEffectTables(pool, names)

const payments: Array<{ messageId: string; body: Payment }> = [
  { messageId: 'msg-1', body: { paymentId: 'p-1', account: 'alice', cents: 1250 } },
  { messageId: 'msg-2', body: { paymentId: 'p-2', account: 'bob', cents: 990 } },
  { messageId: 'msg-2', body: { paymentId: 'p-2', account: 'bob', cents: 990 } },
  { messageId: 'msg-3', body: { paymentId: 'p-3', account: 'carol', cents: 400 } },
]
const notified = new Set<string>()

const ctx = createPaymentsApp({
  amqpUrl,
  pool,
  names,
  onNotified: (paymentId) => {
    notified.add(paymentId)
    if (notified.size !== 3) return
    void pool.query(`SELECT count(*)::int AS n FROM "${names.ledger}"`).then(({ rows }) => {
      const booked = (rows[0] as { n: number }).n
      ctx.logger.info({ booked, notified: notified.size }, `All 3 payments booked and notified once`)
    })
  },
})

ctx.events$.subscribe((e) => {
  if (e.type !== 'context-started') return
  ctx.logger.info(
    {},
    `Payments ready: ${names.input} -> ${names.ledger} + ${names.outbox} -> ${names.booked}`,
  )
  void publish().catch((err: unknown) => ctx.logger.error({ err }, 'Publishing the payments failed'))
})

async function publish(): Promise<void> {
  const connection = await amqplib.connect(amqpUrl)
  try {
    const ch = await connection.createConfirmChannel()
    for (const p of payments)
      ch.sendToQueue(names.input, Buffer.from(JSON.stringify(p.body)), {
        messageId: p.messageId,
        contentType: 'application/json',
        persistent: true,
      })
    await ch.waitForConfirms()
  } finally {
    await connection.close()
  }
}

const report = await ctx.run({ exit: false })
await pool.end()
process.exit(report.graceful ? 0 : 1)
