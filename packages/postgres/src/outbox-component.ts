import type {
  Component,
  ComponentContext,
  Consumer,
  ConsumerHost,
  Endpoint,
  EndpointUri,
  OptionSchema,
  Producer,
} from '@dromedary/core'
import { errors } from './errors.js'
import { outboxDdl } from './outbox-message.js'
import { OutboxProducer, type OutboxTable } from './outbox-producer.js'
import { OutboxRelay } from './outbox-relay.js'
import { isPool, type PgPool } from './pg.js'
import { quoteTable, SchemaOnce } from './sql.js'

/** Options of `postgresOutbox`. */
export interface PostgresOutboxOptions {
  /** The application's node-postgres pool (the relay holds one client for LISTEN and one per batch). */
  pool: PgPool
  /** Create each outbox table (idempotent DDL) when the component starts. @default true */
  createTables?: boolean
}

/** Options of the relay, `from('pg-outbox:TABLE?…')`. */
const RELAY_OPTIONS = {
  batchSize: { type: 'number', default: 100, min: 1, integer: true },
  pollIntervalMs: { type: 'duration', default: 1000, min: 1 },
  listen: { type: 'boolean', default: true },
} as const satisfies OptionSchema

const MAX_BATCH = 10_000

const schema = new SchemaOnce()

/**
 * The `pg-outbox:` component (the transactional outbox): `to('pg-outbox:TABLE')` inside a
 * `.transacted(inbox, …)` block writes the message to the outbox table in the block's transaction;
 * `from('pg-outbox:TABLE')` is the relay route that publishes each committed row once per run, with its
 * stable message id (header `amqp.messageId`), and marks it sent.
 * @example
 * ctx.addComponent('pg-outbox', postgresOutbox({ pool }))
 * r.from('pg-outbox:payments_outbox').routeId('relay').to('amqp:exchange:payments?routingKey=settled')
 */
export function postgresOutbox(options: PostgresOutboxOptions): Component {
  const what = 'postgresOutbox'
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig(what, 'options required')
  if (!isPool(options.pool)) throw errors.invalidConfig(what, '"pool" must be a pg Pool')
  const createTables = options.createTables ?? true
  if (typeof createTables !== 'boolean') throw errors.invalidConfig(what, '"createTables" must be a boolean')
  return new OutboxComponent(options.pool, createTables)
}

class OutboxComponent implements Component {
  readonly #pool: PgPool
  readonly #createTables: boolean
  readonly #tables = new Map<string, OutboxTable>()

  constructor(pool: PgPool, createTables: boolean) {
    this.#pool = pool
    this.#createTables = createTables
  }

  createEndpoint(uri: EndpointUri, _context: ComponentContext): Endpoint {
    let raw: string
    try {
      raw = decodeURIComponent(uri.path)
    } catch {
      throw errors.invalidEndpoint(uri.routeId, uri.uri, 'bad percent-encoding in the table name')
    }
    let table: string
    try {
      table = quoteTable('pg-outbox endpoint', raw)
    } catch (err) {
      throw errors.invalidEndpoint(uri.routeId, uri.uri, (err as Error).message)
    }
    const options = uri.parseOptions(RELAY_OPTIONS)
    if (options.batchSize > MAX_BATCH)
      throw errors.invalidEndpoint(uri.routeId, uri.uri, `batchSize must be at most ${MAX_BATCH}`)
    const t = this.#table(raw, table)
    const pool = this.#pool
    return {
      uri: uri.uri,
      createConsumer(host: ConsumerHost): Consumer {
        const o = uri.parseOptions(RELAY_OPTIONS)
        return new OutboxRelay(host, pool, t, o)
      },
      createProducer(): Producer {
        // Relay options on a `to` URI are a mistake, refused like any unknown option.
        uri.parseOptions({})
        return new OutboxProducer(t)
      },
    }
  }

  /** Creates the tables of the endpoints defined so far, before any route starts. */
  async start(): Promise<void> {
    for (const t of this.#tables.values()) await t.ready()
  }

  #table(raw: string, table: string): OutboxTable {
    let t = this.#tables.get(raw)
    if (t === undefined) {
      const pool = this.#pool
      const ddl = this.#createTables ? outboxDdl(table, raw) : undefined
      let done = ddl === undefined
      t = {
        raw,
        table,
        ready: async () => {
          if (done || ddl === undefined) return
          await schema.ensure(pool, raw, ddl)
          done = true
        },
      }
      this.#tables.set(raw, t)
    }
    return t
  }
}
