import type { Exchange, HeaderFilter, Producer } from '@dromedary/core'
import { decodeBody, encodeBody, type NatsContentType } from './nats-codec.js'
import type { NatsConnectionHandle, WireHeaders } from './nats-connection.js'
import { findHeader, inboundHeaders, outboundHeaders } from './nats-headers.js'
import type { PublishCounters } from './nats-metrics.js'
import { errors } from './errors.js'
import { abortableExchange, abortReason } from '@dromedary/core'

/** What a producer needs from its component. @internal */
export interface NatsProducerRuntime {
  connection(): NatsConnectionHandle
}

/** Settings of `to('nats:subject:SUBJECT')`. @internal */
export interface NatsPublishSettings {
  readonly subject: string
  readonly timeoutMs: number
  readonly headerFilter: HeaderFilter | undefined
  readonly counters: PublishCounters
}

/** Settings of `to('nats:request:SUBJECT')`. @internal */
export interface NatsRequestSettings {
  readonly subject: string
  readonly timeoutMs: number
  readonly contentType: NatsContentType
  readonly headerFilter: HeaderFilter | undefined
}

/**
 * JetStream publish: the exchange completes once a stream has stored the message (the server's ack).
 * `Nats-Msg-Id` is the header `nats.msgId` when set (a consumed message carries its own), else the exchange
 * id, so a retried publish (onException) is a duplicate the stream drops within its duplicate window.
 * @internal
 */
export class NatsPublishProducer implements Producer {
  readonly #runtime: NatsProducerRuntime
  readonly #s: NatsPublishSettings
  readonly #where: string

  constructor(runtime: NatsProducerRuntime, settings: NatsPublishSettings) {
    this.#runtime = runtime
    this.#s = settings
    this.#where = `NATS subject "${settings.subject}"`
  }

  async process(exchange: Exchange): Promise<void> {
    const s = this.#s
    const { data, contentType } = encodeBody(exchange.message.body, this.#where)
    const headers = withContentType(outboundHeaders(exchange.message.headers, s.headerFilter), contentType)
    const id = exchange.message.headers['nats.msgId']
    const msgId = typeof id === 'string' && id !== '' ? id : exchange.id
    const aborted = abortReason(exchange)
    if (aborted !== undefined) throw errors.aborted(`Publishing to ${this.#where}`, aborted)
    let ack
    try {
      ack = await abortableExchange(
        this.#runtime.connection().publish(s.subject, data, { msgId, headers, timeoutMs: s.timeoutMs }),
        exchange,
      )
    } catch (err) {
      s.counters.failed.inc()
      const reason = abortReason(exchange)
      if (reason !== undefined)
        throw errors.aborted(`Publishing to ${this.#where} (it may have reached the stream)`, reason)
      throw errors.publishFailed(s.subject, err)
    }
    if (ack.duplicate) s.counters.duplicate.inc()
    else s.counters.acked.inc()
  }
}

/**
 * Core NATS request/reply: sends the body, waits up to `timeoutMs` for one reply, and makes the reply the
 * exchange's body (decoded per `contentType`); the reply's headers are added to the exchange's.
 * @internal
 */
export class NatsRequestProducer implements Producer {
  readonly #runtime: NatsProducerRuntime
  readonly #s: NatsRequestSettings
  readonly #where: string

  constructor(runtime: NatsProducerRuntime, settings: NatsRequestSettings) {
    this.#runtime = runtime
    this.#s = settings
    this.#where = `NATS request subject "${settings.subject}"`
  }

  async process(exchange: Exchange): Promise<void> {
    const s = this.#s
    const { data, contentType } = encodeBody(exchange.message.body, this.#where)
    const headers = withContentType(outboundHeaders(exchange.message.headers, s.headerFilter), contentType)
    const aborted = abortReason(exchange)
    if (aborted !== undefined) throw errors.aborted(`The request to ${this.#where}`, aborted)
    let reply
    try {
      reply = await abortableExchange(
        this.#runtime.connection().request(s.subject, data, { headers, timeoutMs: s.timeoutMs }),
        exchange,
      )
    } catch (err) {
      const reason = abortReason(exchange)
      if (reason !== undefined) throw errors.aborted(`The request to ${this.#where}`, reason)
      throw errors.requestFailed(s.subject, err)
    }
    let body: unknown
    try {
      body = decodeBody(reply.data, findHeader(reply.headers, 'content-type'), s.contentType)
    } catch (err) {
      throw errors.requestFailed(s.subject, err)
    }
    Object.assign(exchange.message.headers, inboundHeaders(reply.headers, s.headerFilter))
    exchange.message.body = body
  }
}

function withContentType(headers: WireHeaders, contentType: string | undefined): WireHeaders {
  if (contentType !== undefined) headers.push(['Content-Type', contentType])
  return headers
}
