import { randomBytes } from 'node:crypto'
import amqplib from 'amqplib'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  brokerReachable,
  ensureBuilt,
  shutdownLines,
  startExample,
  type ExampleProcess,
} from '../../../test/support/example-process.js'
import { paymentsNames } from '../src/app.js'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const prefix = `payments_smoke_${randomBytes(4).toString('hex')}`
const names = paymentsNames(prefix)
let pool: pg.Pool
let app: ExampleProcess | undefined

beforeAll(async () => {
  const missing = []
  if (!(await brokerReachable(AMQP_URL))) missing.push(`RabbitMQ at ${AMQP_URL}`)
  if (!(await brokerReachable(DATABASE_URL))) missing.push(`PostgreSQL at ${DATABASE_URL}`)
  // This example needs both servers: it fails, never skips, when one is missing, saying which.
  if (missing.length > 0)
    throw new Error(`${missing.join(' and ')} not reachable: the payments-inbox smoke test needs both`)
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
  ensureBuilt('payments-inbox')
}, 120_000)

afterAll(async () => {
  app?.kill()
  const connection = await amqplib.connect(AMQP_URL)
  const ch = await connection.createChannel()
  for (const q of [names.input, names.booked]) await ch.deleteQueue(q)
  await connection.close()
  for (const t of [names.ledger, names.inbox, names.outbox, names.notifications, names.downstreamInbox])
    await pool.query(`DROP TABLE IF EXISTS "${t}"`)
  await pool.end()
})

describe('examples/payments-inbox', () => {
  it('books and notifies each payment once, a duplicate delivery included, and drains on SIGTERM', async () => {
    app = startExample('payments-inbox', { AMQP_URL, DATABASE_URL, PAYMENTS_PREFIX: prefix })
    await app.waitForLine((l) => l.msg.startsWith('Payments ready'))
    const done = await app.waitForLine((l) => l.msg.startsWith('All 3 payments booked and notified once'))
    app.child.kill('SIGTERM')
    const exit = await app.exited

    expect(done).toMatchObject({ booked: 3, notified: 3 })
    expect(exit, app.output()).toEqual({ code: 0, signal: null })
    const count = async (t: string) =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}"`)).rows[0]!.n
    expect(await count(names.ledger)).toBe(3)
    expect(await count(names.inbox)).toBe(3)
    expect(await count(names.notifications)).toBe(3)
    const { summary } = shutdownLines(app, ['payments', 'relay', 'notifier'])
    expect(summary?.msg, app.output()).toMatch(/^Graceful shutdown of 3 routes completed in/)
  })
})
