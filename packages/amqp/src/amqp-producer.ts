import { isDromedaryError, type Exchange, type Producer } from '@dromedary/core'
import type { AmqpConfirmChannel, AmqpConnection, AmqpPublishOptions } from './amqp-connection.js'
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
  /** Publishes under way (opening a channel or awaiting the confirm), across the component; waited for at close. */
  readonly unconfirmed: IdleLatch
}

// Headers of Dromedary's transports describe the message they came from; they are not sent on.
const TRANSPORT_HEADER = /^(?:amqp|http|tkv|dromedary)\./

/**
 * Publishes on its own confirm channel (a channel error such as a missing exchange cannot fail the publishes
 * of other routes). `process` resolves after the broker's ack; a nack, a `mandatory` return or a channel lost
 * before the confirm fails the exchange, and nothing is resent behind the route's back. New publishes wait
 * while the channel's write buffer is full (`drain`) or the broker has blocked the connection. There is no
 * `stop()`: the component waits for every outstanding confirm at close, then closes the connection and with
 * it every producer channel.
 * @internal
 */
export class AmqpProducer implements Producer {
  readonly #runtime: AmqpProducerRuntime
  readonly #settings: AmqpProducerSettings
  readonly #where: string
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
    const options = publishOptions(exchange, s, contentType)
    const runtime = this.#runtime
    runtime.unconfirmed.inc()
    try {
      let channel = this.#channel
      if (channel === undefined || !channel.isOpen || !channel.writable || runtime.connection().blocked) {
        channel = await this.#ready(exchange)
      }
      await channel.publish(s.exchange, s.routingKey, content, options)
      runtime.counters.confirmed.inc()
    } catch (err) {
      if (isDromedaryError(err, AmqpErrorCodes.PUBLISH_NACKED)) runtime.counters.nacked.inc()
      else if (isDromedaryError(err, AmqpErrorCodes.PUBLISH_RETURNED)) runtime.counters.returned.inc()
      throw err
    } finally {
      runtime.unconfirmed.dec()
    }
  }

  // The slow path: open a channel, or wait for `drain` or `connection.unblocked`; aborted with the exchange.
  async #ready(exchange: Exchange): Promise<AmqpConfirmChannel> {
    const signal = exchange.signal
    const connection = this.#runtime.connection()
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason
        if (connection.blocked) {
          await connection.whenUnblocked(signal)
          continue
        }
        const channel = this.#channel?.isOpen === true ? this.#channel : await abortable(this.#open(), signal)
        if (channel.writable) return channel
        await channel.whenWritable(signal)
      }
    } catch (err) {
      if (signal.aborted) throw errors.publishAborted(this.#where, signal.reason)
      throw err
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
): AmqpPublishOptions {
  const h = exchange.message.headers
  const messageId = h['amqp.messageId']
  const correlationId = h['amqp.correlationId']
  const headers: Record<string, unknown> = {}
  for (const key in h) {
    const value = h[key]
    if (
      TRANSPORT_HEADER.test(key) ||
      value === undefined ||
      typeof value === 'function' ||
      typeof value === 'symbol'
    )
      continue
    headers[key] = value
  }
  const options: AmqpPublishOptions = {
    messageId: typeof messageId === 'string' && messageId !== '' ? messageId : exchange.id,
    persistent: s.persistent,
    mandatory: s.mandatory,
    headers,
  }
  if (contentType !== undefined) options.contentType = contentType
  if (typeof correlationId === 'string') options.correlationId = correlationId
  return options
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
