import { amqpComponent } from '@dromedary/amqp'
import { createContext, DUPLICATE_HEADER, type IntegrationContext } from '@dromedary/core'
import { postgresInbox, postgresOutbox, type PgPool } from '@dromedary/postgres'

/** A payment as it arrives on the input queue (the AMQP message id identifies the delivery). */
export interface Payment {
  paymentId: string
  account: string
  cents: number
}

/** What the payments route publishes, through the outbox, once a payment is booked. */
export interface PaymentBooked {
  paymentId: string
  account: string
  cents: number
}

/** Queue and table names, all from one prefix (lower-case letters, digits, `_`) so copies can share servers. */
export interface PaymentsNames {
  readonly input: string
  readonly booked: string
  /** Effects of the payments route: one row per booked payment. */
  readonly ledger: string
  readonly inbox: string
  readonly outbox: string
  /** Effects of the downstream route (a notifier): one row per booking it was told about. */
  readonly notifications: string
  readonly downstreamInbox: string
}

export function paymentsNames(prefix = 'payments'): PaymentsNames {
  return {
    input: `${prefix}.in`,
    booked: `${prefix}.booked`,
    ledger: `${prefix}_ledger`,
    inbox: `${prefix}_inbox`,
    outbox: `${prefix}_outbox`,
    notifications: `${prefix}_notifications`,
    downstreamInbox: `${prefix}_notifications_inbox`,
  }
}

/** The effect tables (the inbox and outbox tables are created by @dromedary/postgres). */
export async function createEffectTables(pool: PgPool, names: PaymentsNames): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS "${names.ledger}" (payment_id text PRIMARY KEY, account text NOT NULL, cents int NOT NULL)`,
  )
  await pool.query(
    `CREATE TABLE IF NOT EXISTS "${names.notifications}" (message_id text NOT NULL, payment_id text NOT NULL)`,
  )
}

/**
 * Three routes:
 * - `payments`: AMQP in; in one PostgreSQL transaction with the inbox key (the AMQP message id) it books the
 *   payment in the ledger and writes a `PaymentBooked` to the outbox. A redelivery is skipped.
 * - `relay`: publishes each outbox row to the `booked` queue with the row's message id, and marks it sent.
 * - `notifier`: the downstream consumer, with its own inbox on the message id: each booking notified once,
 *   even when the relay publishes a row again after a crash.
 */
export function createPaymentsApp(options: {
  amqpUrl: string
  pool: PgPool
  names: PaymentsNames
  onNotified?: (paymentId: string, duplicate: boolean) => void
}): IntegrationContext {
  const { pool, names } = options
  const messageId = (ex: { message: { headers: Record<string, unknown> } }) =>
    String(ex.message.headers['amqp.messageId'])
  const inbox = postgresInbox<Payment>({ pool, table: names.inbox, key: messageId })
  const downstreamInbox = postgresInbox({ pool, table: names.downstreamInbox, key: messageId })

  const ctx = createContext({
    name: 'payments',
    components: {
      amqp: amqpComponent({ url: options.amqpUrl }),
      'pg-outbox': postgresOutbox({ pool }),
    },
  })

  void ctx.addRoutes((r) => {
    r.from<Payment>(`amqp:queue:${names.input}?prefetch=10`)
      .routeId('payments')
      .transacted(inbox, (b) =>
        b
          .process(async (ex) => {
            const { paymentId, account, cents } = ex.message.body
            await inbox
              .client(ex)
              .query(`INSERT INTO "${names.ledger}" (payment_id, account, cents) VALUES ($1, $2, $3)`, [
                paymentId,
                account,
                cents,
              ])
          })
          .transform((ex): PaymentBooked => ({ ...ex.message.body }))
          .to(`pg-outbox:${names.outbox}`),
      )
      .log('Payment message ${id} handled')

    r.from(`pg-outbox:${names.outbox}?pollIntervalMs=500`).routeId('relay').to(`amqp:queue:${names.booked}`)

    r.from<PaymentBooked>(`amqp:queue:${names.booked}?prefetch=10`)
      .routeId('notifier')
      .transacted(downstreamInbox, (b) =>
        b.process(async (ex) => {
          await downstreamInbox
            .client(ex)
            .query(`INSERT INTO "${names.notifications}" (message_id, payment_id) VALUES ($1, $2)`, [
              messageId(ex),
              ex.message.body.paymentId,
            ])
        }),
      )
      .process((ex) => {
        options.onNotified?.(ex.message.body.paymentId, ex.message.headers[DUPLICATE_HEADER] === true)
      })
  })
  return ctx
}
