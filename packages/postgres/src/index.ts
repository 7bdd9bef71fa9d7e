/** Transactional inbox: a `TransactionPolicy` for `.transacted(inbox, (b) => …)` keyed on the message. */
export { postgresInbox } from './postgres-inbox.js'
/** Options of `postgresInbox` and the inbox it returns. */
export type { PostgresInboxOptions, PostgresInbox } from './postgres-inbox.js'
/** The client of the exchange's transaction inside a transacted block. */
export { transactionClient } from './transaction.js'
/** The `pg-outbox:` component: outbox writes inside a transacted block, and the relay route. */
export { postgresOutbox } from './outbox-component.js'
/** Options of `postgresOutbox`. */
export type { PostgresOutboxOptions } from './outbox-component.js'
/** Headers the outbox sets: the stable message id, and the row id on relayed exchanges. */
export { OUTBOX_MESSAGE_ID_HEADER, OUTBOX_ROW_ID_HEADER } from './outbox-message.js'
/** An idempotent repository in a PostgreSQL table, for `.idempotentConsumer`. */
export { postgresIdempotentRepository } from './postgres-idempotent-repository.js'
/** Options of `postgresIdempotentRepository`. */
export type { PostgresIdempotentRepositoryOptions } from './postgres-idempotent-repository.js'
/** node-postgres' `Pool` and checked-out client types, as this package uses them. */
export type { PgPool, PgClient } from './pg.js'
/** Every error code `@dromedary/postgres` can raise, for matching with `isDromedaryError(err, code)`. */
export { PostgresErrorCodes } from './errors.js'
/** A code of `@dromedary/postgres`. */
export type { PostgresErrorCode } from './errors.js'
