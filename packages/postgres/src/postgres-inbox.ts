import {
  DUPLICATE_HEADER,
  type Exchange,
  type TransactedBlock,
  type TransactionPolicy,
} from '@dromedary/core'
import { errors } from './errors.js'
import { Checkout, isPool, type PgClient, type PgPool } from './pg.js'
import { baseName, quoteTable, SchemaOnce } from './sql.js'
import { enterTransaction, leaveTransaction, transactionClient } from './transaction.js'

/** Options of `postgresInbox`. */
export interface PostgresInboxOptions<TBody = unknown> {
  /** The application's node-postgres pool; each exchange in the block holds one client until it commits. */
  pool: PgPool
  /** Inbox table (`name` or `schema.name`, lower-case). @default 'dromedary_inbox' */
  table?: string
  /** The message's key, e.g. `(ex) => String(ex.message.headers['amqp.messageId'])`; a non-empty string. */
  key: (exchange: Exchange<TBody>) => string
  /** Create the table (idempotent DDL) before first use. @default true */
  createTables?: boolean
}

/** A transactional inbox: a `TransactionPolicy` for `.transacted(inbox, (b) => …)` plus its client accessor. */
export interface PostgresInbox extends TransactionPolicy {
  /** The validated, quoted table name. */
  readonly table: string
  /** The client of the exchange's transaction (inside the block); throws DROMEDARY_ERR_PG_NO_TRANSACTION elsewhere. */
  client(exchange: Exchange): PgClient
}

const schema = new SchemaOnce()

/**
 * The transactional inbox, for exactly-once effects in PostgreSQL: the steps of `.transacted(inbox, (b) => …)` run in
 * one PostgreSQL transaction that first inserts the message key into the inbox table. A key already there
 * (committed by an earlier delivery) skips the block and sets header `dromedary.duplicate`; a concurrent
 * delivery of the same key waits on the first one's row lock and then skips or runs. The transaction commits
 * before the step ends, so before the consumer acknowledges; a failure rolls back the effects and the key.
 * @example
 * const inbox = postgresInbox({ pool, table: 'payments_inbox', key: (ex) => String(ex.message.headers['amqp.messageId']) })
 * r.from('amqp:queue:payments').transacted(inbox, (b) => b.process(async (ex) => {
 *   await inbox.client(ex).query('INSERT INTO ledger (id, cents) VALUES ($1, $2)', [ex.message.body.id, ex.message.body.cents])
 * }))
 */
export function postgresInbox<TBody = unknown>(options: PostgresInboxOptions<TBody>): PostgresInbox {
  const what = 'postgresInbox'
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig(what, 'options required')
  if (!isPool(options.pool)) throw errors.invalidConfig(what, '"pool" must be a pg Pool')
  if (typeof options.key !== 'function') throw errors.invalidConfig(what, '"key" must be a function')
  const createTables = options.createTables ?? true
  if (typeof createTables !== 'boolean') throw errors.invalidConfig(what, '"createTables" must be a boolean')
  const raw = options.table ?? 'dromedary_inbox'
  const table = quoteTable(what, raw)
  return new Inbox(
    options.pool,
    raw,
    table,
    options.key as (exchange: Exchange) => string,
    createTables ? inboxDdl(table, raw) : undefined,
  )
}

/** The inbox table: one row per processed message key. @internal */
export function inboxDdl(table: string, raw: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, processed_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX IF NOT EXISTS "${baseName(raw)}_processed_at" ON ${table} (processed_at)`,
  ]
}

class Inbox implements PostgresInbox {
  readonly table: string
  readonly #raw: string
  readonly #pool: PgPool
  readonly #key: (exchange: Exchange) => string
  readonly #ddl: readonly string[] | undefined
  readonly #insert: string

  constructor(
    pool: PgPool,
    raw: string,
    table: string,
    key: (exchange: Exchange) => string,
    ddl: readonly string[] | undefined,
  ) {
    this.#pool = pool
    this.#raw = raw
    this.table = table
    this.#key = key
    this.#ddl = ddl
    this.#insert = `INSERT INTO ${table} (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`
  }

  client(exchange: Exchange): PgClient {
    return transactionClient(exchange)
  }

  async run(exchange: Exchange, block: TransactedBlock): Promise<void> {
    const key = this.#key(exchange)
    if (typeof key !== 'string' || key === '') throw errors.inboxKey(this.#raw, key)
    if (this.#ddl !== undefined) await schema.ensure(this.#pool, this.#raw, this.#ddl)
    let c: Checkout
    try {
      c = await Checkout.of(this.#pool)
    } catch (err) {
      throw errors.query('check out a connection for the inbox', err)
    }
    // Until COMMIT answers, a failure may leave the transaction open: destroy the connection, and the
    // server rolls everything back.
    let clean = false
    try {
      await c.query('BEGIN')
      const inserted = await c.query(this.#insert, [key])
      if (inserted.rowCount === 0) {
        await c.query('ROLLBACK')
        clean = true
        exchange.message.headers[DUPLICATE_HEADER] = true
        return
      }
      enterTransaction(exchange, c)
      try {
        await block.run(exchange)
      } finally {
        leaveTransaction(exchange)
      }
      await c.query(exchange.exception === undefined ? 'COMMIT' : 'ROLLBACK')
      clean = true
    } catch (err) {
      throw errors.query(`run the inbox transaction of key "${key}"`, err)
    } finally {
      c.release(!clean)
    }
  }
}
