import type { PgPool } from './pg.js'
import { Checkout } from './pg.js'
import { errors } from './errors.js'

// Unquoted PostgreSQL identifiers, optionally schema-qualified: letters, digits, `_`, `$`, at most 63 bytes.
const IDENTIFIER = /^[a-z_][a-z0-9_$]{0,62}$/

/**
 * Validates a table name (`name` or `schema.name`, lower-case, as PostgreSQL folds unquoted names) and returns
 * it quoted for SQL; throws `DROMEDARY_ERR_PG_INVALID_CONFIG` otherwise. Names are never interpolated unchecked.
 * @internal
 */
export function quoteTable(what: string, table: unknown): string {
  if (typeof table !== 'string') throw errors.invalidConfig(what, '"table" must be a string')
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p)))
    throw errors.invalidConfig(
      what,
      `"table" must be a lower-case SQL identifier, optionally schema-qualified (letters, digits, _; at most 63 characters each), got ${JSON.stringify(table)}`,
    )
  return parts.map((p) => `"${p}"`).join('.')
}

/** The unqualified name of a validated table (for index names). @internal */
export function baseName(table: string): string {
  return table.split('.').at(-1)!
}

// One advisory lock for every table this package creates: two processes running `CREATE TABLE IF NOT EXISTS`
// at once can otherwise both pass the check and one fail on the catalogue's unique index.
const DDL_LOCK = 0x64726f6d // "drom"

/**
 * Runs idempotent DDL once per process and table: the first caller runs it, later callers share the promise
 * (and retry after a failure). @internal
 */
export class SchemaOnce {
  readonly #done = new Map<string, Promise<void>>()

  ensure(pool: PgPool, table: string, statements: readonly string[]): Promise<void> {
    let p = this.#done.get(table)
    if (p === undefined) {
      p = runDdl(pool, statements).catch((err: unknown) => {
        this.#done.delete(table)
        throw errors.schema(table, err)
      })
      this.#done.set(table, p)
    }
    return p
  }
}

async function runDdl(pool: PgPool, statements: readonly string[]): Promise<void> {
  const c = await Checkout.of(pool)
  try {
    await c.query('BEGIN')
    await c.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK])
    for (const s of statements) await c.query(s)
    await c.query('COMMIT')
    c.release()
  } catch (err) {
    c.release(true)
    throw err
  }
}
