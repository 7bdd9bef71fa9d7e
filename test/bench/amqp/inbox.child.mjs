// One sample of amqp-consume+inbox (msgs/s): each message applies one effect exactly once through a
// PostgreSQL transaction that also records its key.
// ours:     from('amqp:queue:…?prefetch=20').transacted(postgresInbox(…), (b) => b.process(INSERT effect));
//           the component acks each message after its transaction committed.
// baseline: amqplib consume with prefetch 20 and a pg Pool of the same size; per message, by hand: check out
//           a client, BEGIN, INSERT the key ON CONFLICT DO NOTHING, INSERT the effect when the key was new,
//           COMMIT, release, ack.
// Both consume the same pre-filled queue into fresh tables; the clock runs from the first message to the last.
import { createContext } from '@dromedary/core'
import { amqpComponent } from '@dromedary/amqp'
import { postgresInbox } from '@dromedary/postgres'
import { importDependencyOf } from '../lib/deps.mjs'
import { params, reportResult } from '../lib/child.mjs'
import { AMQP_URL, amqplib, CONSUME_QUEUE } from './broker.mjs'

const { side, count } = params()
const PREFETCH = 20
const DATABASE_URL = process.env.DROMEDARY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const pg = await importDependencyOf('postgres', 'pg')
const suffix = `${process.pid}_${Date.now().toString(36)}`
const inboxTable = `dromedary_bench_inbox_${suffix}`
const effects = `dromedary_bench_effects_${suffix}`

function meter() {
  let n = 0
  let t0 = 0
  let finish
  const done = new Promise((resolve) => (finish = resolve))
  const tick = () => {
    if (++n === 1) t0 = performance.now()
    else if (n === count) finish(performance.now() - t0)
  }
  return { tick, done }
}

async function setUp(pool) {
  await pool.query(`CREATE TABLE "${effects}" (message_id text NOT NULL, total numeric)`)
  await pool.query(
    `CREATE TABLE "${inboxTable}" (key text PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now())`,
  )
}

async function consumeOurs(pool) {
  const { tick, done } = meter()
  const inbox = postgresInbox({
    pool,
    table: inboxTable,
    key: (ex) => String(ex.message.body.id),
    createTables: false,
  })
  const ctx = createContext({ logger: false, components: { amqp: amqpComponent({ url: AMQP_URL }) } })
  ctx.addRoutes((r) =>
    r
      .from(`amqp:queue:${CONSUME_QUEUE}?prefetch=${PREFETCH}`)
      .transacted(inbox, (b) =>
        b.process(async (ex) => {
          const { id, total } = ex.message.body
          await inbox.client(ex).query(`INSERT INTO "${effects}" VALUES ($1, $2)`, [String(id), total])
        }),
      )
      .process(tick),
  )
  await ctx.start()
  const ms = await done
  await ctx.stop()
  return ms
}

async function consumeBaseline(pool) {
  const { tick, done } = meter()
  const amqp = await amqplib()
  const conn = await amqp.connect(AMQP_URL)
  const ch = await conn.createChannel()
  await ch.prefetch(PREFETCH)
  const handle = async (msg) => {
    const { id, total } = JSON.parse(msg.content.toString('utf8'))
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const r = await client.query(
        `INSERT INTO "${inboxTable}" (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`,
        [String(id)],
      )
      if (r.rowCount === 1)
        await client.query(`INSERT INTO "${effects}" VALUES ($1, $2)`, [String(id), total])
      await client.query('COMMIT')
      client.release()
    } catch (err) {
      client.release(true)
      throw err
    }
    ch.ack(msg)
    tick()
  }
  await ch.consume(CONSUME_QUEUE, (msg) => {
    void handle(msg)
  })
  const ms = await done
  await ch.close()
  await conn.close()
  return ms
}

await reportResult(async () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: PREFETCH })
  try {
    await setUp(pool)
    const ms = side === 'ours' ? await consumeOurs(pool) : await consumeBaseline(pool)
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${effects}"`)
    if (rows[0].n !== count) throw new Error(`${rows[0].n} effects for ${count} messages`)
    return { messagesPerSecond: ((count - 1) * 1000) / ms }
  } finally {
    await pool.query(`DROP TABLE IF EXISTS "${effects}", "${inboxTable}"`).catch(() => undefined)
    await pool.end()
  }
})
