import type { Consumer, ConsumerHost, Exchange, Logger, StopOptions } from '@dromedary/core'
import { messageOf } from './errors.js'
import {
  decodeBody,
  OUTBOX_MESSAGE_ID_HEADER,
  OUTBOX_ROW_ID_HEADER,
  type OutboxRow,
} from './outbox-message.js'
import type { OutboxTable } from './outbox-producer.js'
import { Checkout, type PgPool } from './pg.js'

/** The validated settings of one `pg-outbox:TABLE` relay. @internal */
export interface OutboxRelaySettings {
  readonly batchSize: number
  readonly pollIntervalMs: number
  readonly listen: boolean
}

type RelayState = 'stopped' | 'running' | 'suspended' | 'draining'

// The header the AMQP producer publishes as the message id: the stable id a downstream inbox keys on.
const AMQP_MESSAGE_ID = 'amqp.messageId'

/**
 * The outbox relay, `from('pg-outbox:TABLE')`: claims up to `batchSize` unsent rows in id order with
 * `FOR UPDATE SKIP LOCKED` (several relays share a table without publishing a row twice at once), runs one
 * exchange per row through its route (e.g. `.to('amqp:exchange:…')`, which completes on the broker's
 * confirm), marks the rows whose exchange completed as sent, and commits. A crash before that commit leaves
 * the rows unsent and unlocked: the next relay publishes them again with the same message id. Between
 * batches it waits `pollIntervalMs`, or less when a NOTIFY from a committing outbox write wakes it.
 *
 * Shutdown: `prepareShutdown` takes no new batch; the batch under way is pending until its commit, so the
 * drain waits for it; a forced stop (or the stop's deadline) destroys the batch's connection, and the rows go
 * back to unsent.
 * @internal
 */
export class OutboxRelay implements Consumer {
  readonly handsBack = true
  readonly #host: ConsumerHost
  readonly #pool: PgPool
  readonly #t: OutboxTable
  readonly #s: OutboxRelaySettings
  readonly #log: Logger
  readonly #claim: string
  readonly #mark: string
  #state: RelayState = 'stopped'
  #loop: Promise<void> | undefined = undefined
  #batch: Checkout | undefined = undefined
  #listener: Checkout | undefined = undefined
  /** Rows claimed by the batch under way, until it commits. */
  #claimed = 0
  /** Of those, exchanges started and not finished (in flight, counted by the route). */
  #running = 0
  #wake: (() => void) | undefined = undefined
  #notified = false
  #failing = false

  constructor(host: ConsumerHost, pool: PgPool, table: OutboxTable, settings: OutboxRelaySettings) {
    this.#host = host
    this.#pool = pool
    this.#t = table
    this.#s = settings
    this.#log = host.logger
    this.#claim = `SELECT id::text AS id, message_id, body, body_kind, headers FROM ${table.table}
      WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`
    this.#mark = `UPDATE ${table.table} SET sent_at = now() WHERE id = ANY($1::bigint[])`
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') return
    await this.#t.ready()
    this.#state = 'running'
    this.#loop = this.#run()
  }

  suspend(): void {
    if (this.#state === 'running') this.#state = 'suspended'
    this.#wake?.()
  }

  async resume(): Promise<void> {
    if (this.#state !== 'suspended' && this.#state !== 'draining') return
    await this.#loop
    this.#state = 'running'
    this.#loop = this.#run()
  }

  prepareShutdown(): void {
    if (this.#state === 'stopped') return
    this.#state = 'draining'
    this.#wake?.()
  }

  /** Claimed rows not in flight: not yet started, or finished and waiting for the batch's commit. */
  pendingExchanges(): number {
    return this.#claimed - this.#running
  }

  async stop(options: StopOptions): Promise<void> {
    this.#state = 'stopped'
    this.#wake?.()
    const signal = options.signal
    if (options.forced || signal?.aborted === true) this.#abandonBatch()
    else if (this.#loop !== undefined) {
      const onAbort = (): void => this.#abandonBatch()
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        await this.#loop
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    }
    this.#listener?.release(true)
    this.#listener = undefined
  }

  // Destroying the connection makes the server roll the claim back: the rows are unsent and unlocked again.
  #abandonBatch(): void {
    this.#batch?.release(true)
  }

  // --- the loop --------------------------------------------------------------------------------

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      if (this.#s.listen) await this.#ensureListening()
      let full = false
      let ok = true
      try {
        const r = await this.#relayBatch()
        full = r.claimed === this.#s.batchSize
        ok = r.failed === 0
        this.#recovered()
      } catch (err) {
        ok = false
        // A batch a stop abandoned fails with its destroyed connection: nothing to report.
        if ((this.#state as RelayState) !== 'stopped') this.#failed(err)
      }
      if (this.#state !== 'running') break
      if (full && ok) continue
      await this.#idle(this.#s.pollIntervalMs)
    }
  }

  async #relayBatch(): Promise<{ claimed: number; failed: number }> {
    const c = await Checkout.of(this.#pool)
    this.#batch = c
    let clean = false
    try {
      await c.query('BEGIN')
      const { rows } = await c.query<OutboxRow>(this.#claim, [this.#s.batchSize])
      this.#claimed = rows.length
      // Started together: a producer that sends synchronously (AMQP) puts them on the wire in id order.
      const outcomes = await Promise.all(rows.map((row) => this.#publish(row)))
      const sent = rows.filter((_, i) => outcomes[i]).map((row) => row.id)
      if (sent.length > 0) await c.query(this.#mark, [sent])
      await c.query('COMMIT')
      clean = true
      return { claimed: rows.length, failed: rows.length - sent.length }
    } finally {
      this.#batch = undefined
      c.release(!clean)
      const had = this.#claimed
      this.#claimed = 0
      if (had > 0) this.#host.notifyPending()
    }
  }

  #publish(row: OutboxRow): Promise<boolean> {
    const headers: Record<string, unknown> = { ...row.headers }
    headers[AMQP_MESSAGE_ID] = row.message_id
    headers[OUTBOX_MESSAGE_ID_HEADER] = row.message_id
    headers[OUTBOX_ROW_ID_HEADER] = row.id
    let body: unknown
    try {
      body = decodeBody(row)
    } catch (err) {
      this.#log.error(
        { err, route: this.#host.routeId, row: row.id },
        `Outbox row ${row.id} of "${this.#t.raw}" cannot be decoded (${messageOf(err)}); it stays unsent`,
      )
      return Promise.resolve(false)
    }
    const ex = this.#host.createExchange(body, headers)
    this.#running++
    const r = this.#host.process(ex)
    if (r === undefined) return Promise.resolve(this.#finished(ex, row))
    return r.then(
      () => this.#finished(ex, row),
      (err: unknown) => {
        ex.exception ??= err
        return this.#finished(ex, row)
      },
    )
  }

  #finished(ex: Exchange, row: OutboxRow): boolean {
    this.#running--
    if (ex.exception === undefined) return true
    if (!this.#host.wasAborted(ex))
      this.#log.warn(
        { err: ex.exception, route: this.#host.routeId, row: row.id, messageId: row.message_id },
        `Outbox row ${row.id} of "${this.#t.raw}" was not published (${messageOf(ex.exception)}); it stays unsent and is retried`,
      )
    return false
  }

  #idle(ms: number): Promise<void> {
    if (this.#notified) {
      this.#notified = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#wake = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#wake = done
    })
  }

  async #ensureListening(): Promise<void> {
    const current = this.#listener
    if (current !== undefined && current.broken === undefined) return
    current?.release(true)
    this.#listener = undefined
    let c: Checkout | undefined
    try {
      c = await Checkout.of(this.#pool)
      c.client.on('notification', (n) => {
        if (n.channel !== this.#t.raw) return
        this.#notified = true
        this.#wake?.()
      })
      await c.query(`LISTEN "${this.#t.raw}"`)
      this.#listener = c
    } catch (err) {
      c?.release(true)
      this.#log.debug(
        { err, route: this.#host.routeId },
        `Outbox relay of "${this.#t.raw}" cannot LISTEN (${messageOf(err)}); polling only`,
      )
    }
  }

  #failed(err: unknown): void {
    if (!this.#failing)
      this.#log.warn(
        { err, route: this.#host.routeId },
        `Outbox relay of "${this.#t.raw}" failed (${messageOf(err)}); retrying every ${this.#s.pollIntervalMs} ms`,
      )
    this.#failing = true
    this.#host.setReady(false)
  }

  #recovered(): void {
    if (!this.#failing) return
    this.#failing = false
    this.#host.setReady(true)
    this.#log.info({ route: this.#host.routeId }, `Outbox relay of "${this.#t.raw}" works again`)
  }
}
