import {
  abortableExchange,
  abortReason,
  injectTraceHeaders,
  isDromedaryError,
  type Exchange,
  type Producer,
} from '@dromedary/core'
import type { AmqpConfirmChannel, AmqpPublishOptions } from './amqp-channel.js'
import type { AmqpConnection } from './amqp-connection.js'
import type { AmqpHeaderRules } from './amqp-headers.js'
import type { PublishCounters } from './amqp-metrics.js'
import { AmqpErrorCodes, errors } from './errors.js'
import type { IdleLatch } from './idle-latch.js'

/** Exchange types a producer may declare (`exchangeType=`). */
export type AmqpExchangeType = 'direct' | 'fanout' | 'topic' | 'headers'

/** The validated settings of one `amqp:exchange:NAME` or `amqp:queue:NAME` producer. @internal */
export interface AmqpProducerSettings {
  /** `''` for the default exchange (`amqp:queue:NAME`). */
  readonly exchange: string
  readonly routingKey: string
  readonly persistent: boolean
  readonly mandatory: boolean
  /** Declare the exchange with this type (durable) before the first publish; otherwise it must exist. */
  readonly exchangeType: AmqpExchangeType | undefined
}

/** What a producer needs from its component. @internal */
export interface AmqpProducerRuntime {
  connection(): AmqpConnection
  readonly counters: PublishCounters
  readonly headers: AmqpHeaderRules
  /** Publishes under way (opening a channel or awaiting the confirm), across the component; waited for at close. */
  readonly unconfirmed: IdleLatch
}

/** A publish waiting for its turn: the channel is opening, the write buffer is full or the broker blocked us. */
interface Waiting {
  readonly content: Buffer
  readonly options: AmqpPublishOptions
  readonly signal: AbortSignal
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
  readonly onAbort: () => void
}

/**
 * Publishes on its own confirm channel (a channel error such as a missing exchange cannot fail the publishes
 * of other routes). `process` resolves after the broker's ack; a nack, a `mandatory` return or a channel lost
 * before the confirm fails the exchange, and nothing is resent behind the route's back.
 *
 * Back-pressure: once amqplib's write buffer reports full, new publishes queue up here, in order, and are
 * handed to amqplib by one pump only as the buffer takes them again after `drain` (never all at once), and
 * only while the broker has not blocked the connection. A queued publish whose exchange is aborted leaves the
 * queue unsent. There is no `stop()`: the component waits for every outstanding confirm at close, then
 * closes the connection and with it every producer channel.
 * @internal
 */
export class AmqpProducer implements Producer {
  readonly #runtime: AmqpProducerRuntime
  readonly #settings: AmqpProducerSettings
  readonly #where: string
  readonly #waiting: Waiting[] = []
  #pumping = false
  #channel: AmqpConfirmChannel | undefined = undefined
  #opening: Promise<AmqpConfirmChannel> | undefined = undefined

  constructor(runtime: AmqpProducerRuntime, settings: AmqpProducerSettings) {
    this.#runtime = runtime
    this.#settings = settings
    this.#where =
      settings.exchange === '' ? `queue "${settings.routingKey}"` : `exchange "${settings.exchange}"`
  }

  async process(exchange: Exchange): Promise<void> {
    const s = this.#settings
    const { content, contentType } = encode(exchange.message.body, this.#where)
    const options = publishOptions(exchange, s, contentType, this.#runtime.headers)
    const runtime = this.#runtime
    runtime.unconfirmed.inc()
    try {
      const channel = this.#channel
      if (
        this.#waiting.length === 0 &&
        channel !== undefined &&
        channel.isOpen &&
        channel.writable &&
        !runtime.connection().blocked
      )
        await this.#confirmed(channel.publish(s.exchange, s.routingKey, content, options), exchange)
      else await this.#confirmed(this.#wait(exchange.signal, content, options), exchange)
      runtime.counters.confirmed.inc()
    } catch (err) {
      if (isDromedaryError(err, AmqpErrorCodes.PUBLISH_NACKED)) runtime.counters.nacked.inc()
      else if (isDromedaryError(err, AmqpErrorCodes.PUBLISH_RETURNED)) runtime.counters.returned.inc()
      throw err
    } finally {
      runtime.unconfirmed.dec()
    }
  }

  /**
   * Aborted means stopped: an aborted exchange stops waiting for its confirm at once. The broker may still take
   * the message (it was written); the exchange fails as aborted, so its source hands it back — at least once.
   */
  async #confirmed(publish: Promise<void>, exchange: Exchange): Promise<void> {
    try {
      await abortableExchange(publish, exchange)
    } catch (err) {
      const reason = abortReason(exchange)
      if (reason !== undefined) throw errors.publishAborted(this.#where, reason)
      throw err
    }
  }

  // The slow path: queue up behind the publishes already waiting; settles with the publish's confirm.
  #wait(signal: AbortSignal, content: Buffer, options: AmqpPublishOptions): Promise<void> {
    if (signal.aborted) return Promise.reject(errors.publishAborted(this.#where, signal.reason))
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(waiting)
        if (i === -1) return
        this.#waiting.splice(i, 1)
        reject(errors.publishAborted(this.#where, signal.reason))
      }
      const waiting: Waiting = { content, options, signal, resolve, reject, onAbort }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiting.push(waiting)
      void this.#pump()
    })
  }

  // One pump per producer: waits for what holds the queue (no channel, blocked, full buffer), then sends.
  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#waiting.length > 0) {
        const connection = this.#runtime.connection()
        if (connection.blocked) {
          await connection.whenUnblocked()
          continue
        }
        const channel = this.#channel
        if (channel === undefined || !channel.isOpen) await this.#open()
        else if (!channel.writable) await channel.whenWritable()
        else this.#sendWaiting(channel)
      }
    } catch (err) {
      // No channel (missing exchange, connection closed for good): every waiting publish fails with it.
      for (const w of this.#waiting.splice(0)) {
        w.signal.removeEventListener('abort', w.onAbort)
        w.reject(err)
      }
    } finally {
      this.#pumping = false
    }
  }

  // Hands waiting publishes to amqplib, in order, for as long as its write buffer takes them.
  #sendWaiting(channel: AmqpConfirmChannel): void {
    const s = this.#settings
    while (this.#waiting.length > 0 && channel.writable && channel.isOpen) {
      const w = this.#waiting.shift()!
      w.signal.removeEventListener('abort', w.onAbort)
      channel.publish(s.exchange, s.routingKey, w.content, w.options).then(w.resolve, w.reject)
    }
  }

  #open(): Promise<AmqpConfirmChannel> {
    this.#opening ??= this.#openChannel().finally(() => {
      this.#opening = undefined
    })
    return this.#opening
  }

  async #openChannel(): Promise<AmqpConfirmChannel> {
    const s = this.#settings
    const session = await this.#runtime.connection().session()
    const channel = await session.openConfirmChannel()
    try {
      if (s.exchangeType !== undefined) await channel.assertExchange(s.exchange, s.exchangeType)
      // Publishing to a missing exchange would close the channel; find out first, with a clear error.
      else if (s.exchange !== '') await channel.checkExchange(s.exchange)
    } catch (err) {
      void channel.close()
      throw err
    }
    channel.onClose(() => {
      if (this.#channel === channel) this.#channel = undefined
    })
    this.#channel = channel
    return channel
  }
}

function encode(body: unknown, where: string): { content: Buffer; contentType: string | undefined } {
  if (body instanceof Uint8Array) {
    const content = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    return { content, contentType: 'application/octet-stream' }
  }
  if (typeof body === 'string') return { content: Buffer.from(body, 'utf8'), contentType: 'text/plain' }
  if (body === undefined) return { content: Buffer.alloc(0), contentType: undefined }
  let json: string | undefined
  try {
    json = JSON.stringify(body)
  } catch (err) {
    throw errors.encode(where, err)
  }
  if (json === undefined) throw errors.encode(where, new TypeError(`a ${typeof body} has no JSON form`))
  return { content: Buffer.from(json, 'utf8'), contentType: 'application/json' }
}

function publishOptions(
  exchange: Exchange,
  s: AmqpProducerSettings,
  contentType: string | undefined,
  rules: AmqpHeaderRules,
): AmqpPublishOptions {
  const h = exchange.message.headers
  const messageId = h['amqp.messageId']
  const correlationId = h['amqp.correlationId']
  const options: AmqpPublishOptions = {
    messageId: typeof messageId === 'string' && messageId !== '' ? messageId : exchange.id,
    persistent: s.persistent,
    mandatory: s.mandatory,
    headers: rules.outbound(h),
  }
  // The sending span's `traceparent`/`tracestate`/`baggage` (nothing without an OpenTelemetry SDK).
  injectTraceHeaders(exchange, options.headers)
  if (contentType !== undefined) options.contentType = contentType
  if (typeof correlationId === 'string') options.correlationId = correlationId
  return options
}
