import type { Exchange } from '../exchange/exchange.js'

/** The compiled steps of a `.transacted` block. `run` never throws: a failure leaves `exchange.exception` set. */
export interface TransactedBlock {
  run(exchange: Exchange): void | Promise<void>
}

/**
 * Runs the steps of a `.transacted(policy, …)` block inside one transaction (Camel `TransactedPolicy`,
 * Spring `TransactionTemplate`); transports implement it, e.g. the PostgreSQL inbox of `@dromedary/postgres`.
 *
 * `run` begins a transaction for the exchange, runs `block.run(exchange)`, then commits — or rolls back when
 * `exchange.exception` is set afterwards (the block ended at its first failure). Not running the block skips
 * it (an inbox that has seen the message). A throw or rejection fails the exchange with that error. The block's
 * failure becomes the failure of the whole `transacted` step once `run` has returned, so the route's
 * `onException` redelivers the whole transaction, never one step inside a rolled-back one.
 */
export interface TransactionPolicy {
  run(exchange: Exchange, block: TransactedBlock): void | Promise<void>
}
