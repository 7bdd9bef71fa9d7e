import type { Exchange } from '@dromedary/core'
import { errors } from './errors.js'
import type { Checkout, PgClient } from './pg.js'

// The open transaction of each exchange inside a `.transacted(inbox, …)` block. A WeakMap, not a property
// or header: it must not travel with copies of the exchange (wireTap, split) or out through a transport.
const open = new WeakMap<Exchange, Checkout>()

/** @internal */
export function enterTransaction(exchange: Exchange, checkout: Checkout): void {
  open.set(exchange, checkout)
}

/** @internal */
export function leaveTransaction(exchange: Exchange): void {
  open.delete(exchange)
}

/** The exchange's open transaction; throws DROMEDARY_ERR_PG_NO_TRANSACTION outside a transacted block. @internal */
export function transactionOf(exchange: Exchange, what: string): Checkout {
  const c = open.get(exchange)
  if (c === undefined) throw errors.noTransaction(what)
  return c
}

/**
 * The client of the exchange's PostgreSQL transaction, for the steps of a `.transacted(inbox, …)` block:
 * what they write through it commits or rolls back with the inbox key (and the outbox rows).
 * @example b.process(async (ex) => { await transactionClient(ex).query('INSERT INTO ledger …', [...]) })
 */
export function transactionClient(exchange: Exchange): PgClient {
  return transactionOf(exchange, 'transactionClient(exchange)').client
}
