/**
 * The only module that imports the NATS clients (`@nats-io/transport-node`, `@nats-io/jetstream`). It owns one
 * connection (the client reconnects by itself) and gives the rest of the package small, typed operations
 * whose failures are `DromedaryError`s with the client's error as `cause`.
 */
import type { Logger } from '@dromedary/core'
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumeCallback,
  type ConsumerInfo,
  type ConsumerMessages,
  type FetchMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream'
import {
  connect,
  headers as natsHeaders,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node'
import { errors } from './errors.js'

/** A message fetched from a JetStream pull consumer (ack, nak, working, term). @internal */
export type NatsJsMessage = JsMsg

/** Header name/value pairs as they travel on the wire (first value of each name). @internal */
export type WireHeaders = Array<readonly [string, string]>

/** Settings of one connection (already validated by the component). @internal */
export interface NatsConnectionSettings {
  readonly servers: readonly string[]
  readonly user: string | undefined
  readonly pass: string | undefined
  readonly token: string | undefined
  readonly name: string
  readonly connectTimeoutMs: number
  readonly reconnectTimeWaitMs: number
  readonly maxReconnectAttempts: number
  readonly logger: Logger
  /** Called after every successful reconnect. */
  readonly onReconnect: () => void
}

/** What a consumer endpoint asks for. @internal */
export interface PullConsumerSpec {
  readonly stream: string
  readonly name: string
  /** Create the durable consumer when it is missing (with these settings). */
  readonly create: boolean
  readonly ackWaitMs: number
  readonly filterSubject: string | undefined
  readonly deliverPolicy: 'all' | 'new'
}

/** One open fetch (pull request): settles when it is filled, expires (resolves) or fails (rejects). @internal */
export interface NatsFetch {
  readonly done: Promise<void>
  /** Ends the fetch now; messages the server sends after this are redelivered after `ack_wait`. */
  stop(): void
}

/** A bound durable pull consumer. @internal */
export interface NatsPullConsumer {
  /** The consumer's `ack_wait` on the server, in ms (it wins over the URI's when the consumer existed). */
  readonly ackWaitMs: number
  /** Opens a pull request for `maxMessages`; each message is handed to `onMessage` as it arrives. */
  fetch(maxMessages: number, expiresMs: number, onMessage: (msg: NatsJsMessage) => void): Promise<NatsFetch>
}

/** The result of a JetStream publish. @internal */
export interface NatsPubAck {
  readonly stream: string
  readonly seq: number
  readonly duplicate: boolean
}

/** A core NATS reply. @internal */
export interface NatsReply {
  readonly data: Uint8Array
  readonly headers: WireHeaders
}

const NANOS_PER_MS = 1_000_000

/**
 * One connection to a NATS server with JetStream. The client reconnects by itself (`reconnect*` settings);
 * messages fetched before a reconnect can still be acknowledged after it (an ack is a publish to the
 * message's reply subject, not tied to a channel).
 * @internal
 */
export class NatsConnectionHandle {
  /** The servers, without credentials, for messages and logs. */
  readonly target: string
  readonly #nc: NatsConnection
  readonly #js: JetStreamClient
  readonly #jsm: JetStreamManager
  #closing = false
  #unexpectedClose = false

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    target: string,
    settings: NatsConnectionSettings,
  ) {
    this.#nc = nc
    this.#jsm = jsm
    this.#js = jetstream(nc)
    this.target = target
    void this.#watch(settings)
    void nc.closed().then(() => {
      if (!this.#closing) this.#unexpectedClose = true
    })
  }

  /** Connects and checks JetStream is enabled; rejects with DROMEDARY_ERR_NATS_CONNECT. */
  static async open(s: NatsConnectionSettings): Promise<NatsConnectionHandle> {
    const target = s.servers.join(',')
    let nc: NatsConnection
    try {
      nc = await connect({
        servers: [...s.servers],
        name: s.name,
        timeout: s.connectTimeoutMs,
        reconnectTimeWait: s.reconnectTimeWaitMs,
        maxReconnectAttempts: s.maxReconnectAttempts,
        waitOnFirstConnect: false,
        ...(s.user === undefined ? {} : { user: s.user }),
        ...(s.pass === undefined ? {} : { pass: s.pass }),
        ...(s.token === undefined ? {} : { token: s.token }),
      })
    } catch (err) {
      throw errors.connect(target, err)
    }
    try {
      return new NatsConnectionHandle(nc, await jetstreamManager(nc), target, s)
    } catch (err) {
      await nc.close().catch(() => undefined)
      throw errors.connect(target, err)
    }
  }

  /** True once the client gave up reconnecting (not after `close()`): nothing will reconnect. */
  get gaveUp(): boolean {
    return this.#unexpectedClose
  }

  get isClosed(): boolean {
    return this.#nc.isClosed()
  }

  /** Binds (and, if allowed, creates) a durable pull consumer with explicit acks. */
  async pullConsumer(spec: PullConsumerSpec): Promise<NatsPullConsumer> {
    let info: ConsumerInfo | undefined
    try {
      info = await this.#jsm.consumers.info(spec.stream, spec.name)
    } catch (err) {
      if (!isNotFound(err)) throw errors.consumer(spec.stream, spec.name, 'cannot read its info', err)
      if (!spec.create) throw errors.consumer(spec.stream, spec.name, 'it does not exist (create=false)', err)
    }
    if (info === undefined) {
      try {
        info = await this.#jsm.consumers.add(spec.stream, {
          durable_name: spec.name,
          ack_policy: AckPolicy.Explicit,
          ack_wait: spec.ackWaitMs * NANOS_PER_MS,
          // Redeliveries are bounded by the consumer (maxDeliveries → dead letter), not by the server, which
          // would leave an exhausted message in the stream with nobody told.
          max_deliver: -1,
          deliver_policy: spec.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
          ...(spec.filterSubject === undefined ? {} : { filter_subject: spec.filterSubject }),
        })
      } catch (err) {
        throw errors.consumer(spec.stream, spec.name, 'cannot create it', err)
      }
    }
    const config = info.config
    if (config.ack_policy !== AckPolicy.Explicit)
      throw errors.consumer(
        spec.stream,
        spec.name,
        `its ack policy is "${config.ack_policy}", expected "explicit"`,
      )
    if (config.deliver_subject !== undefined && config.deliver_subject !== '')
      throw errors.consumer(spec.stream, spec.name, 'it is a push consumer, expected a pull consumer')
    const consumer = await this.#js.consumers.get(spec.stream, spec.name).catch((err: unknown) => {
      throw errors.consumer(spec.stream, spec.name, 'cannot bind to it', err)
    })
    const ackWaitMs = Math.max(1, Math.round((config.ack_wait ?? 30_000 * NANOS_PER_MS) / NANOS_PER_MS))
    return {
      ackWaitMs,
      async fetch(maxMessages, expiresMs, onMessage) {
        // The client hands messages to a callback when one is given (its `consume()` documents it; `fetch()`
        // shares the implementation). All messages of one socket read are then handled in one go, so their acks
        // leave in one write instead of one write per message, as with the async iterator.
        const options: FetchMessages & ConsumeCallback = {
          max_messages: maxMessages,
          expires: expiresMs,
          callback: onMessage,
        }
        const messages: ConsumerMessages = await consumer.fetch(options)
        const done = messages.closed().then((err) => {
          if (err instanceof Error) throw err
        })
        return { done, stop: () => void messages.close().catch(() => undefined) }
      },
    }
  }

  /** Rejects with DROMEDARY_ERR_NATS_NO_STREAM when no stream captures `subject`. */
  async checkStreamFor(subject: string): Promise<string> {
    try {
      return await this.#jsm.streams.find(subject)
    } catch (err) {
      throw errors.noStream(subject, err)
    }
  }

  /** JetStream publish; resolves with the server's ack (`duplicate` when `msgId` was seen in the window). */
  async publish(
    subject: string,
    data: Uint8Array,
    options: { msgId: string; headers: WireHeaders; timeoutMs: number },
  ): Promise<NatsPubAck> {
    const h = toMsgHdrs(options.headers)
    const ack = await this.#js.publish(subject, data, {
      msgID: options.msgId,
      timeout: options.timeoutMs,
      ...(h === undefined ? {} : { headers: h }),
    })
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate }
  }

  /** Core NATS request/reply. */
  async request(
    subject: string,
    data: Uint8Array,
    options: { headers: WireHeaders; timeoutMs: number },
  ): Promise<NatsReply> {
    const h = toMsgHdrs(options.headers)
    const reply: Msg = await this.#nc.request(subject, data, {
      timeout: options.timeoutMs,
      ...(h === undefined ? {} : { headers: h }),
    })
    return { data: reply.data, headers: wireHeadersOf(reply.headers) }
  }

  /**
   * Graceful close: drains (pending publishes and acks are flushed to the server), then closes. When `signal`
   * aborts first, the socket is closed hard at once (never waits on a server that does not answer).
   */
  async close(signal: AbortSignal | undefined): Promise<void> {
    this.#closing = true
    if (this.#nc.isClosed()) return
    if (signal?.aborted === true) return this.#hardClose()
    const drained = this.#nc.isDraining() ? this.#nc.closed().then(() => undefined) : this.#nc.drain()
    if (signal === undefined) return drained.catch(() => undefined)
    await new Promise<void>((resolve) => {
      const onAbort = (): void => void this.#hardClose().then(resolve, resolve)
      signal.addEventListener('abort', onAbort, { once: true })
      drained
        .catch(() => undefined)
        .finally(() => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        })
    })
  }

  // `close()` first flushes its write buffer, which never completes when the peer stopped reading; a close with
  // an error destroys the socket without that flush.
  async #hardClose(): Promise<void> {
    const protocol = (this.#nc as unknown as { protocol?: { close?(err: Error): Promise<void> } }).protocol
    const hard = protocol?.close?.(new Error('closed hard: the shutdown deadline passed'))
    await (hard ?? this.#nc.close()).catch(() => undefined)
  }

  async #watch(s: NatsConnectionSettings): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === 'disconnect') {
        if (!this.#closing)
          s.logger.warn({ server: this.target }, `NATS connection to ${this.target} lost; reconnecting`)
      } else if (status.type === 'reconnect') {
        s.logger.info({ server: this.target }, `NATS connection to ${this.target} re-established`)
        s.onReconnect()
      }
    }
  }
}

/** Wire headers of a message (first value of each name). @internal */
export function wireHeadersOf(h: MsgHdrs | undefined): WireHeaders {
  if (h === undefined) return []
  const out: Array<readonly [string, string]> = []
  for (const k of h.keys()) out.push([k, h.get(k)])
  return out
}

function toMsgHdrs(pairs: WireHeaders): MsgHdrs | undefined {
  if (pairs.length === 0) return undefined
  const h = natsHeaders()
  for (const [k, v] of pairs) h.set(k, v)
  return h
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: unknown } | undefined
  if (e?.api_error?.err_code === 10014 || e?.api_error?.err_code === 10059) return true
  return typeof e?.message === 'string' && /not found/i.test(e.message)
}
