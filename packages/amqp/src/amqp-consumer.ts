import type { Consumer, ConsumerHost, Exchange, Logger, ShutdownRunningTask } from '@dromedary/core'
import type {
  AmqpChannel,
  AmqpConnection,
  AmqpMessage,
  AmqpQueueOptions,
  AmqpSession,
} from './amqp-connection.js'
import type { QueueCounters } from './amqp-metrics.js'
import { errors } from './errors.js'
import { IdleLatch } from './idle-latch.js'

/** How a consumer turns message content into the exchange body. */
export type AmqpContentType = 'auto' | 'json' | 'text' | 'binary'

/** The validated settings of one `amqp:queue:NAME` consumer. @internal */
export interface AmqpConsumerSettings {
  readonly queue: string
  readonly prefetch: number
  /** Queue declaration options; `undefined` with `passive=true` (the queue must exist). */
  readonly declare: AmqpQueueOptions | undefined
  readonly deadLetterExchange: string | undefined
  readonly maxRedeliveries: number | undefined
  readonly contentType: AmqpContentType
}

/** What a consumer needs from its component. @internal */
export interface AmqpConsumerRuntime {
  connection(): AmqpConnection
  readonly counters: QueueCounters
}

type ConsumerState = 'stopped' | 'starting' | 'consuming' | 'suspended' | 'draining'

/** One channel the consumer consumes on; replaced after a reconnect. */
interface Attachment {
  readonly session: AmqpSession
  readonly channel: AmqpChannel
  readonly onMessage: (message: AmqpMessage | null) => void
  consumerTag: string | undefined
}

interface Delivery {
  readonly attachment: Attachment
  readonly message: AmqpMessage
}

// Bounds the per-consumer memory of redelivered message ids (maxRedeliveries on classic queues).
const SEEN_LIMIT = 10_000
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/**
 * Consumes one queue with manual acknowledgement and at most `prefetch` exchanges in flight. A completed
 * exchange is acked, a failed one nacked without requeue (dead-lettered, or dropped by the broker with an
 * error log), an exchange aborted by shutdown is nacked with requeue. Acknowledgements only ever go to the
 * channel the message came from: after a reconnect, exchanges of the dead channel finish unacknowledged
 * (the broker already requeued their messages).
 * @internal
 */
export class AmqpConsumer implements Consumer {
  readonly #host: ConsumerHost
  readonly #runtime: AmqpConsumerRuntime
  readonly #settings: AmqpConsumerSettings
  readonly #log: Logger
  readonly #running = new IdleLatch()
  readonly #seen = new Map<string, number>()
  #state: ConsumerState = 'stopped'
  #attachment: Attachment | undefined = undefined
  #pending: Delivery[] = []
  #pumping = false
  /** Draining with `completeCurrentTaskOnly` (or forced): deliveries not started go back to the queue. */
  #handBack = false
  #unregister: (() => void) | undefined = undefined

  constructor(host: ConsumerHost, runtime: AmqpConsumerRuntime, settings: AmqpConsumerSettings) {
    this.#host = host
    this.#runtime = runtime
    this.#settings = settings
    this.#log = host.logger
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') return
    this.#state = 'starting'
    this.#handBack = false
    const connection = this.#runtime.connection()
    this.#unregister = connection.addRecoverer(this.#recover)
    try {
      await this.#recover(await connection.session())
      if (this.#state === 'starting') this.#state = 'consuming'
    } catch (err) {
      this.#unregister()
      this.#unregister = undefined
      this.#state = 'stopped'
      throw err
    }
  }

  /** Cancels the broker consumer; exchanges already delivered still run. */
  async suspend(): Promise<void> {
    if (this.#state !== 'consuming') return
    this.#state = 'suspended'
    await this.#cancel()
  }

  /** Consumes again after `suspend`, or after `prepareShutdown` when a route stop was aborted on timeout. */
  async resume(): Promise<void> {
    if (this.#state !== 'suspended' && this.#state !== 'draining') return
    this.#state = 'consuming'
    this.#handBack = false
    const connection = this.#runtime.connection()
    this.#unregister ??= connection.addRecoverer(this.#recover)
    const att = this.#attachment
    if (att?.channel.isOpen === true) {
      if (att.consumerTag === undefined)
        att.consumerTag = await att.channel.consume(this.#settings.queue, att.onMessage)
    } else {
      await this.#recover(await connection.session())
    }
  }

  async prepareShutdown(options: { forced: boolean; task: ShutdownRunningTask }): Promise<void> {
    const handBack = options.forced || options.task === 'completeCurrentTaskOnly'
    if (this.#state === 'stopped') return
    if (this.#state === 'draining') {
      if (handBack && !this.#handBack) this.#handBackPending()
      return
    }
    this.#state = 'draining'
    this.#handBack = handBack
    // A consumer that is draining must not start consuming again on a new connection.
    this.#unregister?.()
    this.#unregister = undefined
    if (options.forced) {
      // The channel is about to close anyway; never wait on a broker that may not answer.
      void this.#cancel()
      this.#handBackPending()
      return
    }
    // After cancel-ok the broker sends no more deliveries; those that arrived before are pending.
    await this.#cancel()
    if (this.#handBack) this.#handBackPending()
    else this.#pump()
  }

  pendingExchanges(): number {
    return this.#pending.length
  }

  deferShutdown(): boolean {
    return false
  }

  async stop(options: { forced: boolean }): Promise<void> {
    if (this.#state === 'stopped') return
    if (!options.forced && this.#state !== 'draining') {
      await this.prepareShutdown({ forced: false, task: this.#host.shutdownRunningTask })
    }
    this.#state = 'stopped'
    this.#unregister?.()
    this.#unregister = undefined
    const att = this.#attachment
    this.#attachment = undefined
    const dropped = this.#pending.length
    if (options.forced) {
      // Closing the channel makes the broker requeue everything unacknowledged, including exchanges still
      // running here. Close-ok is not awaited: a forced stop must not hang on a broker that does not answer
      // (blocked connection, dead socket); the Channel.Close frame precedes the connection's Close, which the
      // component awaits at NOW.
      this.#pending = []
      if (att !== undefined) void att.channel.close()
    } else {
      // Every started exchange is acked or nacked before the channel closes, and close-ok means the broker
      // has processed those acknowledgements (amqplib#637).
      await this.#running.whenIdle()
      this.#pending = []
      if (att !== undefined) await att.channel.close()
    }
    if (dropped > 0) this.#host.notifyPending()
  }

  // --- connection ------------------------------------------------------------------------------

  // Also the recovery hook: runs inside amqplib's `setup` after a reconnect.
  readonly #recover = async (session: AmqpSession): Promise<void> => {
    if (this.#state === 'stopped' || this.#state === 'draining') return
    const current = this.#attachment
    if (current?.session === session && current.channel.isOpen) return
    await this.#attach(session, this.#state !== 'suspended')
  }

  async #attach(session: AmqpSession, consume: boolean): Promise<void> {
    const s = this.#settings
    const channel = await session.openChannel()
    try {
      if (s.declare === undefined) await channel.checkQueue(s.queue)
      else await channel.assertQueue(s.queue, s.declare)
      if (s.deadLetterExchange !== undefined) {
        await channel.checkExchange(s.deadLetterExchange).catch((err: unknown) => {
          throw errors.topology(
            `use dead-letter exchange "${s.deadLetterExchange}" of queue "${s.queue}" (declare it and bind a queue to it; the broker drops messages dead-lettered to a missing exchange)`,
            err,
          )
        })
      }
      await channel.prefetch(s.prefetch)
      const att: Attachment = {
        session,
        channel,
        consumerTag: undefined,
        onMessage: (message) => this.#onDelivery(att, message),
      }
      channel.onClose((err) => this.#onChannelClosed(att, err))
      this.#attachment = att
      if (!consume || !this.#wantsDeliveries()) return
      att.consumerTag = await channel.consume(s.queue, att.onMessage)
      // A shutdown that began while this (re)attach was under way has already cancelled the old consumer.
      if (!this.#wantsDeliveries()) await this.#cancel()
    } catch (err) {
      void channel.close()
      throw err
    }
  }

  #wantsDeliveries(): boolean {
    return this.#state === 'starting' || this.#state === 'consuming'
  }

  async #cancel(): Promise<void> {
    const att = this.#attachment
    const tag = att?.consumerTag
    if (att === undefined || tag === undefined) return
    att.consumerTag = undefined
    await att.channel.cancel(tag)
  }

  #onChannelClosed(att: Attachment, err: Error | undefined): void {
    if (this.#attachment === att) this.#attachment = undefined
    // Deliveries of a closed channel that had not started are back in the queue (the broker requeued them).
    const before = this.#pending.length
    if (before > 0) {
      this.#pending = this.#pending.filter((d) => d.attachment !== att)
      if (this.#pending.length < before) this.#host.notifyPending()
    }
    // A connection loss is repaired by recovery; a channel closed by the broker with the connection still up
    // is not, and re-opening it blindly could loop on the same error.
    if (err !== undefined && this.#state !== 'stopped' && this.#state !== 'draining') {
      this.#log.error(
        { err, route: this.#host.routeId, queue: this.#settings.queue },
        `AMQP consumer of queue "${this.#settings.queue}" lost its channel; it resumes after the next reconnect or route restart`,
      )
    }
  }

  // --- deliveries (hot path) -------------------------------------------------------------------

  #onDelivery(att: Attachment, message: AmqpMessage | null): void {
    if (message === null) {
      att.consumerTag = undefined
      this.#log.error(
        { route: this.#host.routeId, queue: this.#settings.queue },
        `The broker cancelled the consumer of queue "${this.#settings.queue}" (queue deleted?); restart the route to consume again`,
      )
      return
    }
    if (this.#handBack || this.#pending.length > 0 || this.#running.count >= this.#settings.prefetch) {
      this.#pending.push({ attachment: att, message })
      return
    }
    this.#begin(att, message)
  }

  #begin(att: Attachment, message: AmqpMessage): void {
    const s = this.#settings
    if (s.maxRedeliveries !== undefined && message.fields.redelivered) {
      const count = this.#deliveryCount(message)
      if (count > s.maxRedeliveries) {
        this.#refuse(
          att,
          message,
          errors.redeliveryLimit(s.queue, messageIdOf(message), count, s.maxRedeliveries),
        )
        return
      }
    }
    let body: unknown
    try {
      body = decode(message, s.contentType)
    } catch (err) {
      this.#refuse(att, message, errors.decode(s.queue, messageIdOf(message), err))
      return
    }
    const ex = this.#host.createExchange(body, headersOf(message))
    this.#running.inc()
    const r = this.#host.process(ex)
    if (r === undefined) this.#settle(att, message, ex)
    else
      void r.then(
        () => this.#settle(att, message, ex),
        (err: unknown) => {
          ex.exception ??= err
          this.#settle(att, message, ex)
        },
      )
  }

  #settle(att: Attachment, message: AmqpMessage, ex: Exchange): void {
    const counters = this.#runtime.counters
    if (!att.channel.isOpen) {
      // The channel died (reconnect or forced stop): the broker requeued the message; a delivery tag is only
      // valid on its own channel, so nothing can (or needs to) be acknowledged.
      this.#log.debug(
        { route: this.#host.routeId, queue: this.#settings.queue, messageId: messageIdOf(message) },
        'AMQP exchange finished after its channel closed; the broker has requeued the message',
      )
    } else if (this.#host.wasAborted(ex)) {
      if (att.channel.nack(message, true)) counters.requeued.inc()
    } else if (ex.exception === undefined) {
      if (att.channel.ack(message)) counters.acked.inc()
    } else {
      this.#refuse(att, message, ex.exception)
    }
    this.#running.dec()
    if (this.#pending.length > 0) this.#pump()
  }

  /** Nack without requeue: to the dead-letter exchange, or discarded by the broker (logged as an error). */
  #refuse(att: Attachment, message: AmqpMessage, err: unknown): void {
    if (!att.channel.nack(message, false)) return
    const s = this.#settings
    const id = messageIdOf(message)
    const ctx = { err, route: this.#host.routeId, queue: s.queue, messageId: id }
    if (s.deadLetterExchange !== undefined) {
      this.#runtime.counters.dead_lettered.inc()
      this.#log.warn(
        { ...ctx, deadLetterExchange: s.deadLetterExchange },
        `Message ${id} from queue "${s.queue}" failed and was dead-lettered to exchange "${s.deadLetterExchange}"`,
      )
    } else {
      this.#runtime.counters.nacked.inc()
      this.#log.error(
        ctx,
        `Message ${id} from queue "${s.queue}" failed and was rejected; the queue has no dead-letter exchange, so the broker discarded it`,
      )
    }
  }

  #pump(): void {
    if (this.#pumping || this.#handBack) return
    this.#pumping = true
    let started = false
    try {
      while (this.#pending.length > 0 && this.#running.count < this.#settings.prefetch) {
        const d = this.#pending.shift()!
        started = true
        if (d.attachment.channel.isOpen) this.#begin(d.attachment, d.message)
      }
    } finally {
      this.#pumping = false
    }
    if (started) this.#host.notifyPending()
  }

  #handBackPending(): void {
    this.#handBack = true
    const pending = this.#pending
    if (pending.length === 0) return
    this.#pending = []
    for (const d of pending)
      if (d.attachment.channel.nack(d.message, true)) this.#runtime.counters.requeued.inc()
    this.#host.notifyPending()
  }

  /** Earlier deliveries of a redelivered message: quorum queues count them, otherwise this consumer does. */
  #deliveryCount(message: AmqpMessage): number {
    const header: unknown = message.properties.headers?.['x-delivery-count']
    if (typeof header === 'number') return header
    const id: unknown = message.properties.messageId
    if (typeof id !== 'string') return 1
    const n = (this.#seen.get(id) ?? 0) + 1
    this.#seen.delete(id)
    this.#seen.set(id, n)
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.keys().next().value!)
    return n
  }
}

function decode(message: AmqpMessage, mode: AmqpContentType): unknown {
  switch (mode) {
    case 'binary':
      return message.content
    case 'text':
      return message.content.toString('utf8')
    case 'json':
      return JSON.parse(message.content.toString('utf8'))
    case 'auto': {
      const type: unknown = message.properties.contentType
      if (typeof type !== 'string') return message.content
      if (JSON_TYPE.test(type)) return JSON.parse(message.content.toString('utf8'))
      if (type.startsWith('text/')) return message.content.toString('utf8')
      return message.content
    }
  }
}

function headersOf(message: AmqpMessage): Record<string, unknown> {
  const p = message.properties
  // Object.assign, not a spread: adding the amqp.* headers to a spread copy of a non-empty object costs V8
  // (11.x, Node 20) a new map per message, ~5 µs (issue 8). The same own keys: amqplib decodes a table by
  // assignment, so it never holds an own `__proto__` that Object.assign would turn into a prototype.
  const headers: Record<string, unknown> = p.headers === undefined ? {} : Object.assign({}, p.headers)
  headers['amqp.messageId'] = p.messageId
  headers['amqp.correlationId'] = p.correlationId
  headers['amqp.redelivered'] = message.fields.redelivered
  headers['amqp.routingKey'] = message.fields.routingKey
  headers['amqp.exchange'] = message.fields.exchange
  return headers
}

function messageIdOf(message: AmqpMessage): string {
  const id: unknown = message.properties.messageId
  return typeof id === 'string' && id !== ''
    ? id
    : `(no message-id, delivery tag ${message.fields.deliveryTag})`
}
