/**
 * Test support for the PostgreSQL suites: a pool on the real server (only ever 127.0.0.1), unique table
 * names, and dropping them afterwards. A suite FAILS (never skips) with the reason when the server is down.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import type { IntegrationContext } from '@dromedary/core'

/** The server the suites run against. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A table name unique to this run: `dromedary_test_<what>_<random>`. */
export function tableName(what: string): string {
  return `dromedary_test_${what}_${randomBytes(4).toString('hex')}`
}

/** A new pool; its `error` events are swallowed (a test that kills connections on purpose sees them). */
export function newPool(max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max })
  pool.on('error', () => undefined)
  return pool
}

/** Connects once; throws an explanation when PostgreSQL is not reachable. */
export async function connectDatabase(): Promise<pg.Pool> {
  const pool = newPool()
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end().catch(() => undefined)
    const why = err instanceof Error ? err.message : String(err)
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL} (${why}). The @dromedary/postgres suites need a real server` +
        `${process.env.CI === undefined ? '' : ' (CI is set: this is a failure, not a skip)'}; start one ` +
        '(`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or set DATABASE_URL.',
    )
  }
  return pool
}

/**
 * Installs the suite hooks: one pool per file, every test FAILS with the reason when the server is
 * unreachable, contexts force-stopped and tables dropped after each test.
 */
export function useDatabase(): {
  readonly pool: pg.Pool
  table(what: string): string
  track(ctx: IntegrationContext): IntegrationContext
} {
  let pool: pg.Pool | undefined
  let unreachable: unknown
  const tables: string[] = []
  const contexts: IntegrationContext[] = []
  beforeAll(async () => {
    try {
      pool = await connectDatabase()
    } catch (err) {
      unreachable = err
    }
  })
  beforeEach(() => {
    if (unreachable !== undefined) throw unreachable
  })
  afterEach(async () => {
    for (const ctx of contexts.splice(0)) if (ctx.status !== 'stopped') await ctx.forceStop()
    for (const t of tables.splice(0)) await pool?.query(`DROP TABLE IF EXISTS "${t}"`)
  })
  afterAll(async () => {
    await pool?.end()
  })
  return {
    get pool() {
      if (pool === undefined) throw new Error('the database is not connected')
      return pool
    },
    table(what) {
      const t = tableName(what)
      tables.push(t)
      return t
    },
    track(ctx) {
      contexts.push(ctx)
      return ctx
    },
  }
}

/** `SELECT count(*)` of a table, as a number. */
export async function countRows(pool: pg.Pool, table: string, where = 'true'): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}" WHERE ${where}`)
  return Number(rows[0]!.n)
}
