import type { IdempotentRepository } from '@dromedary/core'
import { errors } from './errors.js'
import { isPool, poolQuery, type PgPool } from './pg.js'
import { baseName, quoteTable, SchemaOnce } from './sql.js'

/** Options of `postgresIdempotentRepository`. */
export interface PostgresIdempotentRepositoryOptions {
  /** The application's node-postgres pool. */
  pool: PgPool
  /** Table of keys (`name` or `schema.name`, lower-case). @default 'dromedary_idempotent' */
  table?: string
  /** Create the table (idempotent DDL) before first use. @default true */
  createTables?: boolean
}

const schema = new SchemaOnce()

/**
 * An idempotent repository in a PostgreSQL table (Camel `JdbcMessageIdRepository`): `add` is one
 * `INSERT … ON CONFLICT DO NOTHING`, so two processes adding the same key agree on who was first. Each call is
 * its own autocommit statement, outside the effects' transaction: for effects in the same database, the
 * transactional inbox closes the window this leaves (see docs/exactly-once.md).
 * @example r.from('amqp:queue:in').idempotentConsumer((ex) => String(ex.message.headers['amqp.messageId']), { repository: postgresIdempotentRepository({ pool }) })
 */
export function postgresIdempotentRepository(
  options: PostgresIdempotentRepositoryOptions,
): IdempotentRepository {
  const what = 'postgresIdempotentRepository'
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig(what, 'options required')
  if (!isPool(options.pool)) throw errors.invalidConfig(what, '"pool" must be a pg Pool')
  const createTables = options.createTables ?? true
  if (typeof createTables !== 'boolean') throw errors.invalidConfig(what, '"createTables" must be a boolean')
  const raw = options.table ?? 'dromedary_idempotent'
  const table = quoteTable(what, raw)
  const pool = options.pool
  const ddl = createTables
    ? [
        `CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now())`,
        `CREATE INDEX IF NOT EXISTS "${baseName(raw)}_created_at" ON ${table} (created_at)`,
      ]
    : undefined
  const sql = {
    add: `INSERT INTO ${table} (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`,
    contains: `SELECT 1 FROM ${table} WHERE key = $1`,
    remove: `DELETE FROM ${table} WHERE key = $1`,
    clear: `DELETE FROM ${table}`,
  }
  const run = async (op: keyof typeof sql, key?: string) => {
    if (ddl !== undefined) await schema.ensure(pool, raw, ddl)
    try {
      return await poolQuery(pool, sql[op], key === undefined ? [] : [key])
    } catch (err) {
      throw errors.query(`${op} ${key === undefined ? 'every key' : `key "${key}"`} in "${raw}"`, err)
    }
  }
  return {
    add: async (key) => (await run('add', key)).rowCount === 1,
    contains: async (key) => (await run('contains', key)).rowCount === 1,
    remove: async (key) => void (await run('remove', key)),
    clear: async () => void (await run('clear')),
  }
}
