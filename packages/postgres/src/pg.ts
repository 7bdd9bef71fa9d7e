// The only file of @dromedary/postgres that imports node-postgres.
import type { Pool, PoolClient, QueryResultRow } from 'pg'

/** A node-postgres `Pool` (the application owns it: creates it, listens to its `error`, ends it). */
export type PgPool = Pool
/** A client checked out of a `Pool`: inside a transacted block, the transaction's connection. */
export type PgClient = PoolClient

/** One row set, as node-postgres returns it. @internal */
export interface Rows<T> {
  readonly rows: T[]
  readonly rowCount: number | null
}

/**
 * A client checked out for a unit of work. While checked out, node-postgres leaves an `error` event of the
 * client (the server closed the connection between two queries) to whoever holds it; unheard, it would
 * crash the process. `release` hands it back, or destroys it when it broke or a transaction may be open.
 * @internal
 */
export class Checkout {
  readonly client: PoolClient
  #broken: unknown = undefined
  #released = false
  readonly #onError = (err: Error): void => {
    this.#broken ??= err
  }

  private constructor(client: PoolClient) {
    this.client = client
    client.on('error', this.#onError)
  }

  /** Checks a client out of `pool`. */
  static async of(pool: Pool): Promise<Checkout> {
    return new Checkout(await pool.connect())
  }

  /** The error the connection broke with, if it did. */
  get broken(): unknown {
    return this.#broken
  }

  query<T extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<Rows<T>> {
    return this.client.query<T>(text, values)
  }

  /** Hands the client back; `destroy` (or a broken connection) closes it instead. Idempotent. */
  release(destroy = false): void {
    if (this.#released) return
    this.#released = true
    this.client.removeListener('error', this.#onError)
    // After an `error` event node-postgres may emit more; the pool no longer listens once it is ours.
    if (destroy || this.#broken !== undefined) this.client.on('error', () => undefined)
    this.client.release(destroy || this.#broken !== undefined)
  }
}

/** Runs one statement on the pool (autocommit). @internal */
export function poolQuery<T extends QueryResultRow = QueryResultRow>(
  pool: Pool,
  text: string,
  values?: unknown[],
): Promise<Rows<T>> {
  return pool.query<T>(text, values)
}

/** True when `value` looks like a node-postgres `Pool` (has `connect` and `query`). @internal */
export function isPool(value: unknown): value is Pool {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Pool).connect === 'function' &&
    typeof (value as Pool).query === 'function'
  )
}
