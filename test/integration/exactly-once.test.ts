// Exactly-once effects end to end against real RabbitMQ and PostgreSQL, with the apps in child processes that
// are SIGKILLed inside the failure windows (deterministically: a step that announces the window and hangs).
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createContext, type IntegrationContext } from '@dromedary/core'
import { postgresInbox, postgresOutbox, type PgPool } from '@dromedary/postgres'
import {
  brokerReachable,
  ensurePackagesBuilt,
  startScript,
  type ExampleProcess,
} from '../support/example-process.js'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const APP = fileURLToPath(new URL('./fixtures/exactly-once-app.mjs', import.meta.url))

interface Queryable {
  query<T>(text: string, values?: unknown[]): Promise<{ rows: T[] }>
  end(): Promise<void>
  on(event: 'error', fn: () => void): void
}
interface AmqpMessage {
  properties: { messageId?: string }
}
interface AmqpChannel {
  assertQueue(q: string, o: object): Promise<unknown>
  deleteQueue(q: string): Promise<unknown>
  sendToQueue(q: string, content: Buffer, o: object): boolean
  waitForConfirms(): Promise<void>
  get(q: string, o: object): Promise<AmqpMessage | false>
  checkQueue(q: string): Promise<{ messageCount: number }>
}
interface AmqpConnection {
  createConfirmChannel(): Promise<AmqpChannel>
  close(): Promise<void>
}

const fromPostgres = createRequire(new URL('../../packages/postgres/package.json', import.meta.url))
const fromAmqp = createRequire(new URL('../../packages/amqp/package.json', import.meta.url))
const { Pool } = fromPostgres('pg') as { Pool: new (o: object) => Queryable }
const amqplib = fromAmqp('amqplib') as { connect(url: string): Promise<AmqpConnection> }

const suffix = () => randomBytes(4).toString('hex')
let pool: Queryable
let conn: AmqpConnection
let ch: AmqpChannel
const tables: string[] = []
const queues: string[] = []
const apps: ExampleProcess[] = []
const contexts: IntegrationContext[] = []

beforeAll(async () => {
  const missing: string[] = []
  if (!(await brokerReachable(AMQP_URL))) missing.push(`RabbitMQ at ${AMQP_URL}`)
  if (!(await brokerReachable(DATABASE_URL))) missing.push(`PostgreSQL at ${DATABASE_URL}`)
  if (missing.length > 0)
    throw new Error(
      `${missing.join(' and ')} not reachable: the exactly-once suite needs both${process.env.CI === undefined ? '' : ' (CI is set: this is a failure, not a skip)'}`,
    )
  ensurePackagesBuilt('core', 'amqp', 'postgres')
  pool = new Pool({ connectionString: DATABASE_URL, max: 4 })
  pool.on('error', () => undefined)
  conn = await amqplib.connect(AMQP_URL)
  ch = await conn.createConfirmChannel()
}, 120_000)

afterEach(async () => {
  for (const app of apps.splice(0)) app.kill()
  for (const ctx of contexts.splice(0)) if (ctx.status !== 'stopped') await ctx.forceStop()
})

afterAll(async () => {
  for (const q of queues) await ch?.deleteQueue(q)
  await conn?.close()
  for (const t of tables) await pool?.query(`DROP TABLE IF EXISTS "${t}"`)
  await pool?.end()
})

async function queue(what: string): Promise<string> {
  const q = `dromedary-test.exactly-once.${what}.${suffix()}`
  await ch.assertQueue(q, { durable: true })
  queues.push(q)
  return q
}

function table(what: string): string {
  const t = `dromedary_test_eo_${what}_${suffix()}`
  tables.push(t)
  return t
}

function app(mode: 'consumer' | 'relay', options: Record<string, unknown>): ExampleProcess {
  const p = startScript(APP, [
    mode,
    JSON.stringify({ amqpUrl: AMQP_URL, databaseUrl: DATABASE_URL, ...options }),
  ])
  apps.push(p)
  return p
}

async function kill9(p: ExampleProcess): Promise<void> {
  p.child.kill('SIGKILL')
  expect((await p.exited).signal).toBe('SIGKILL')
}

async function stop(p: ExampleProcess): Promise<void> {
  p.child.kill('SIGTERM')
  await p.waitForLine((l) => l.msg === 'STOPPED', 20_000)
  expect((await p.exited).code).toBe(0)
}

async function drain(q: string): Promise<string[]> {
  const ids: string[] = []
  for (;;) {
    const m = await ch.get(q, { noAck: true })
    if (m === false) return ids
    ids.push(m.properties.messageId ?? '?')
  }
}

const count = async (t: string, where = 'true') =>
  Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${t}" WHERE ${where}`)).rows[0]!.n)

describe('exactly-once effects (RabbitMQ + PostgreSQL, SIGKILL in the windows)', () => {
  it('applies a message once when the consumer is killed after the commit and before the ack', async () => {
    const q = await queue('in')
    const inbox = table('inbox')
    const effects = table('effects')
    await pool.query(`CREATE TABLE "${effects}" (message_id text NOT NULL)`)
    ch.sendToQueue(q, Buffer.from('{"cents":100}'), {
      messageId: 'pay-1',
      persistent: true,
      contentType: 'application/json',
    })
    await ch.waitForConfirms()

    const first = app('consumer', { queue: q, inbox, effects, hangAfterCommit: true })
    await first.waitForLine((l) => l.msg === 'COMMITTED pay-1', 20_000)
    await kill9(first)
    expect(await count(effects)).toBe(1)

    // The broker redelivers the unacknowledged message; the inbox has its key, so the block is skipped.
    const second = app('consumer', { queue: q, inbox, effects })
    await second.waitForLine((l) => l.msg === 'DONE pay-1 duplicate=true', 20_000)
    await stop(second)
    expect(await count(effects)).toBe(1)
    expect((await ch.checkQueue(q)).messageCount).toBe(0)
  })

  it('publishes an outbox row once per relay run, again with the same id after a relay crash, and a downstream inbox applies it once', async () => {
    const outbox = table('outbox')
    const out = await queue('out')
    const upstreamInbox = table('upstream_inbox')
    // Three messages written to the outbox by committed inbox blocks (in this process).
    const pg = new Pool({ connectionString: DATABASE_URL, max: 3 }) as unknown as PgPool
    const writer = createContext({
      logger: false,
      metrics: false,
      components: { 'pg-outbox': postgresOutbox({ pool: pg }) },
    })
    contexts.push(writer)
    const inbox = postgresInbox({ pool: pg, table: upstreamInbox, key: (ex) => String(ex.message.body) })
    await writer.addRoutes((r) => r.from('direct:w').transacted(inbox, (b) => b.to(`pg-outbox:${outbox}`)))
    await writer.start()
    const written: string[] = []
    for (const n of ['a', 'b', 'c'])
      written.push(
        String((await writer.producer().send('direct:w', n)).message.headers['dromedary.outbox.messageId']),
      )
    await writer.stop()
    await (pg as unknown as Queryable).end()

    // Relay run 1 is killed after the first confirmed publish, before its batch marked the row sent.
    const crashed = app('relay', { outbox, out, hangAfterPublish: true })
    await crashed.waitForLine((l) => l.msg === `PUBLISHED ${written[0]}`, 20_000)
    await kill9(crashed)
    expect(await count(outbox, 'sent_at IS NULL')).toBe(3)

    // Relay run 2 publishes every row once, the first one again with the same message id.
    const relay = app('relay', { outbox, out })
    for (const id of written) await relay.waitForLine((l) => l.msg === `RELAYED ${id}`, 20_000)
    await stop(relay)
    expect(await count(outbox, 'sent_at IS NULL')).toBe(0)
    const published = await drain(out)
    expect(published.sort()).toEqual([written[0]!, ...written].sort())

    // A downstream inbox keyed on the message id applies each message's effect once.
    for (const id of published) ch.sendToQueue(out, Buffer.from('{}'), { messageId: id, persistent: true })
    await ch.waitForConfirms()
    const downstreamInbox = table('downstream_inbox')
    const effects = table('effects')
    await pool.query(`CREATE TABLE "${effects}" (message_id text NOT NULL)`)
    const consumer = app('consumer', { queue: out, inbox: downstreamInbox, effects })
    const done = () => consumer.lines.filter((l) => l.msg.startsWith('DONE')).length
    await expect.poll(done, { timeout: 20_000 }).toBe(published.length)
    await stop(consumer)
    const { rows } = await pool.query<{ message_id: string }>(`SELECT message_id FROM "${effects}"`)
    expect(rows.map((r) => r.message_id).sort()).toEqual([...written].sort())
  })
})
