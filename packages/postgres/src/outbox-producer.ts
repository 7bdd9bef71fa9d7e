import { randomUUID } from 'node:crypto'
import type { Exchange, Producer } from '@dromedary/core'
import { errors } from './errors.js'
import { encodeMessage, OUTBOX_MESSAGE_ID_HEADER } from './outbox-message.js'
import { transactionOf } from './transaction.js'

/** What the producer and the relay of one outbox table share. @internal */
export interface OutboxTable {
  /** As written in the URI (validated). */
  readonly raw: string
  /** Quoted for SQL. */
  readonly table: string
  /** Creates the table unless `createTables` is false; resolves at once after the first time. */
  ready(): Promise<void>
}

/**
 * `to('pg-outbox:TABLE')` inside a `.transacted(inbox, …)` block: inserts the message into the outbox table
 * through the exchange's transaction, so it is published (by the relay) if and only if the block commits. The
 * message id (a UUID, fixed in the row) is set as header `dromedary.outbox.messageId`; NOTIFY wakes the relay
 * at commit.
 * @internal
 */
export class OutboxProducer implements Producer {
  readonly #t: OutboxTable
  readonly #insert: string

  constructor(t: OutboxTable) {
    this.#t = t
    this.#insert = `WITH row AS (
      INSERT INTO ${t.table} (message_id, body, body_kind, headers) VALUES ($1, $2, $3, $4) RETURNING id
    ) SELECT pg_notify($5, '') FROM row`
  }

  async process(exchange: Exchange): Promise<void> {
    const tx = transactionOf(exchange, `to("pg-outbox:${this.#t.raw}")`)
    const m = encodeMessage(this.#t.raw, exchange.message.body, exchange.message.headers)
    await this.#t.ready()
    const id = randomUUID()
    try {
      await tx.query(this.#insert, [id, m.body, m.kind, m.headers, this.#t.raw])
    } catch (err) {
      throw errors.query(`write to outbox "${this.#t.raw}"`, err)
    }
    exchange.message.headers[OUTBOX_MESSAGE_ID_HEADER] = id
  }
}
