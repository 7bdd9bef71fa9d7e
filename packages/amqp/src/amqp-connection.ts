/**
 * The only module that imports amqplib. It owns one recovering connection (amqplib's built-in `recovery`:
 * reconnect with backoff, then a `setup` hook) and wraps channels so the rest of the package sees small,
 * typed operations whose failures are `DromedaryError`s with the amqplib error as `cause`.
 */
import type { Logger } from '@dromedary/core'
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Message,
  type Options,
  type RecoveringChannelModel,
} from 'amqplib'
import { errors } from './errors.js'

/** A message delivered to a consumer. @internal */
export type AmqpMessage = ConsumeMessage

/** Properties of a published message. @internal */
export type AmqpPublishOptions = Options.Publish & { messageId: string }

/** Queue declaration options. @internal */
export type AmqpQueueOptions = Options.AssertQueue

/** Settings of one connection (already validated by the component). @internal */
export interface AmqpConnectionSettings {
  readonly url: string
  readonly heartbeatSeconds: number | undefined
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly maxRetries: number
  readonly initialMaxRetries: number
  readonly connectionName: string
  readonly logger: Logger
  /** Called after every successful reconnect (not the first connect). */
  readonly onReconnect: () => void
}

/** Re-establishes a consumer on a fresh connection; runs inside amqplib's recovery `setup`. @internal */
export type Recoverer = (session: AmqpSession) => Promise<void>

interface Waiter<T> {
  resolve(value: T): void
  reject(err: unknown): void
}

/**
 * One logical connection to the broker that survives connection loss: amqplib reconnects with backoff and,
 * before it reports the connection as up again, runs every registered `Recoverer` (consumers re-declare
 * their queue and consume again). Channels do not survive a reconnect; their users open new ones.
 * @internal
 */
export class AmqpConnection {
  /** The broker address without credentials, for messages and logs. */
  readonly target: string
  readonly #settings: AmqpConnectionSettings
  readonly #recoverers = new Set<Recoverer>()
  readonly #sessionWaiters = new Set<Waiter<AmqpSession>>()
  readonly #unblockWaiters = new Set<Waiter<void>>()
  #model: RecoveringChannelModel | undefined
  #session: AmqpSession | undefined
  #settingUp: AmqpSession | undefined
  #generation = 0
  #closed = false
  #failure: unknown = undefined
  #blocked = false

  constructor(settings: AmqpConnectionSettings) {
    this.#settings = settings
    this.target = redactUrl(settings.url)
  }

  /** True while the broker has blocked publishing on this connection (memory or disk alarm). */
  get blocked(): boolean {
    return this.#blocked
  }

  /** Connects; rejects with DROMEDARY_ERR_AMQP_CONNECT once `initialMaxRetries` attempts have failed. */
  async open(): Promise<void> {
    const s = this.#settings
    let model: RecoveringChannelModel
    try {
      model = await connect(urlWithHeartbeat(s.url, s.heartbeatSeconds), {
        clientProperties: { connection_name: s.connectionName },
        recovery: {
          initialDelay: s.initialDelayMs,
          maxDelay: s.maxDelayMs,
          maxRetries: s.maxRetries,
          initialMaxRetries: s.initialMaxRetries,
          waitForConnect: false,
          setup: (m: ChannelModel) => this.#setup(m),
        },
      })
    } catch (err) {
      throw errors.connect(this.target, err)
    }
    this.#model = model
    this.#listen(model)
    try {
      await model.waitForConnect()
    } catch (err) {
      this.#closed = true
      this.#model = undefined
      throw errors.connect(this.target, err)
    }
  }

  /** True once recovery gave up after a connection loss (not after `close()`): nothing will reconnect. */
  get gaveUp(): boolean {
    return this.#failure !== undefined
  }

  /** Registers a consumer to re-establish after every reconnect; returns the unregister function. */
  addRecoverer(recoverer: Recoverer): () => void {
    this.#recoverers.add(recoverer)
    return () => this.#recoverers.delete(recoverer)
  }

  /** The live session, or the next one once recovery has reconnected. */
  session(): Promise<AmqpSession> {
    if (this.#session !== undefined) return Promise.resolve(this.#session)
    if (this.#closed) return Promise.reject(errors.connectionClosed(this.target, this.#failure))
    return waitFor(this.#sessionWaiters, undefined)
  }

  /** Resolves when the broker unblocks the connection (at once when it is not blocked). */
  whenUnblocked(signal?: AbortSignal): Promise<void> {
    if (!this.#blocked) return Promise.resolve()
    return waitFor(this.#unblockWaiters, signal)
  }

  /** Stops recovery and closes the connection (Connection.Close, awaiting close-ok); idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    const err = errors.connectionClosed(this.target)
    settleAll(this.#sessionWaiters, (w) => w.reject(err))
    settleAll(this.#unblockWaiters, (w) => w.resolve())
    this.#session = undefined
    const model = this.#model
    this.#model = undefined
    // amqplib's RecoveringChannelModel.close never rejects: it stops reconnecting and closes the live model.
    if (model !== undefined) await model.close()
  }

  // Runs inside amqplib's recovery before the connection is reported up. Throwing makes amqplib close this
  // model and retry with backoff, so a consumer that cannot be re-established is retried rather than lost.
  async #setup(model: ChannelModel): Promise<void> {
    const log = this.#settings.logger
    // amqplib emits 'error' on the model before 'close'; an EventEmitter without an 'error' listener throws.
    model.on('error', (err: Error) => log.warn({ err, connection: this.target }, 'AMQP connection error'))
    const session = new AmqpSession(model, ++this.#generation, this.target, log)
    const results = await Promise.allSettled([...this.#recoverers].map((recover) => recover(session)))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) {
      const err: unknown = failed.reason
      log.error(
        { err, connection: this.target },
        'AMQP consumers could not be re-established after reconnecting; retrying the connection',
      )
      throw err
    }
    this.#settingUp = session
  }

  #listen(model: RecoveringChannelModel): void {
    const log = this.#settings.logger
    const connection = this.target
    model.on('connect', () => {
      const session = this.#settingUp
      this.#settingUp = undefined
      if (session === undefined) return
      const reconnect = session.generation > 1
      this.#session = session
      settleAll(this.#sessionWaiters, (w) => w.resolve(session))
      if (reconnect) {
        log.info({ connection }, 'AMQP connection re-established; consumers resumed')
        this.#settings.onReconnect()
      } else {
        log.info({ connection }, 'AMQP connection established')
      }
    })
    model.on('disconnect', (err: Error) => {
      this.#session = undefined
      this.#blocked = false
      settleAll(this.#unblockWaiters, (w) => w.resolve())
      log.warn({ err, connection }, 'AMQP connection lost; reconnecting')
    })
    model.on('connect-failed', (err: Error) =>
      log.warn({ err, connection }, 'AMQP connection attempt failed'),
    )
    model.on('reconnect-scheduled', (info: { attempt: number; delay: number }) =>
      log.info({ connection, attempt: info.attempt, delayMs: info.delay }, 'AMQP reconnect scheduled'),
    )
    model.on('reconnect-failed', (err: Error) => {
      this.#closed = true
      this.#failure = err
      const closed = errors.connectionClosed(connection, err)
      settleAll(this.#sessionWaiters, (w) => w.reject(closed))
      // Before the first connection, start() rejects with the failure; after it, only the log tells.
      if (this.#generation > 0) {
        log.error({ err, connection }, 'AMQP connection recovery gave up; consumers and producers are down')
      }
    })
    model.on('blocked', (reason: string) => {
      this.#blocked = true
      log.warn({ connection, reason }, 'AMQP connection blocked by the broker; publishing is paused')
    })
    model.on('unblocked', () => {
      this.#blocked = false
      settleAll(this.#unblockWaiters, (w) => w.resolve())
      log.info({ connection }, 'AMQP connection unblocked; publishing resumes')
    })
    // Already logged by the per-model listener installed in #setup.
    model.on('error', () => {})
    model.on('handler-error', (err: Error, event: string) =>
      log.error({ err, connection, event }, 'AMQP connection event handler threw'),
    )
  }
}

/** One incarnation of the connection (between two reconnects); channels are opened on it. @internal */
export class AmqpSession {
  readonly generation: number
  readonly #model: ChannelModel
  readonly #target: string
  readonly #logger: Logger

  constructor(model: ChannelModel, generation: number, target: string, logger: Logger) {
    this.#model = model
    this.generation = generation
    this.#target = target
    this.#logger = logger
  }

  async openChannel(): Promise<AmqpChannel> {
    try {
      return new AmqpChannel(await this.#model.createChannel(), this.#target, this.#logger)
    } catch (err) {
      throw errors.channel('open', err)
    }
  }

  async openConfirmChannel(): Promise<AmqpConfirmChannel> {
    try {
      return new AmqpConfirmChannel(await this.#model.createConfirmChannel(), this.#target, this.#logger)
    } catch (err) {
      throw errors.channel('open a confirm channel', err)
    }
  }
}

/**
 * A channel wrapper: topology operations reject with DromedaryErrors, acknowledgements never throw (they
 * report whether they were sent), and `close()` resolves on close-ok or when the connection takes the channel
 * down, whichever comes first.
 * @internal
 */
export class AmqpChannel {
  protected readonly channel: Channel
  protected readonly target: string
  #open = true
  #lastError: Error | undefined = undefined
  #closing: Promise<void> | undefined = undefined
  readonly #closed: Promise<void>
  readonly #closeListeners: Array<(err: Error | undefined) => void> = []

  constructor(channel: Channel, target: string, logger: Logger) {
    this.channel = channel
    this.target = target
    let resolveClosed!: () => void
    this.#closed = new Promise((resolve) => (resolveClosed = resolve))
    channel.on('error', (err: Error) => {
      this.#lastError = err
      logger.warn({ err, connection: target }, 'AMQP channel closed by the broker')
    })
    channel.on('close', () => {
      this.#open = false
      resolveClosed()
      for (const listener of this.#closeListeners) listener(this.#lastError)
    })
    channel.on('handler-error', (err: Error, event: string) =>
      logger.error({ err, connection: target, event }, 'AMQP channel event handler threw'),
    )
  }

  /** False once the channel is closed or closing; acknowledgements are then impossible. */
  get isOpen(): boolean {
    return this.#open
  }

  /** `listener` runs once when the channel is gone; `err` is set when the broker closed it with an error. */
  onClose(listener: (err: Error | undefined) => void): void {
    this.#closeListeners.push(listener)
  }

  async assertQueue(queue: string, options: AmqpQueueOptions): Promise<void> {
    try {
      await this.channel.assertQueue(queue, options)
    } catch (err) {
      throw errors.topology(`declare queue "${queue}"`, err)
    }
  }

  async checkQueue(queue: string): Promise<void> {
    try {
      await this.channel.checkQueue(queue)
    } catch (err) {
      throw errors.topology(`find queue "${queue}" (passive=true)`, err)
    }
  }

  async checkExchange(exchange: string): Promise<void> {
    try {
      await this.channel.checkExchange(exchange)
    } catch (err) {
      throw errors.topology(`find exchange "${exchange}"`, err)
    }
  }

  async assertExchange(exchange: string, type: string): Promise<void> {
    try {
      await this.channel.assertExchange(exchange, type, { durable: true })
    } catch (err) {
      throw errors.topology(`declare ${type} exchange "${exchange}"`, err)
    }
  }

  async prefetch(count: number): Promise<void> {
    try {
      await this.channel.prefetch(count)
    } catch (err) {
      throw errors.channel(`set prefetch ${count}`, err)
    }
  }

  /** Starts consuming with manual acknowledgement; returns the consumer tag. */
  async consume(queue: string, onMessage: (message: AmqpMessage | null) => void): Promise<string> {
    try {
      const ok = await this.channel.consume(queue, onMessage, { noAck: false })
      return ok.consumerTag
    } catch (err) {
      throw errors.channel(`consume from queue "${queue}"`, err)
    }
  }

  /** Cancels a consumer and waits for cancel-ok (no delivery follows it); false if the channel is gone. */
  async cancel(consumerTag: string): Promise<boolean> {
    if (!this.#open) return false
    try {
      await this.channel.cancel(consumerTag)
      return true
    } catch {
      return false
    }
  }

  ack(message: AmqpMessage): boolean {
    if (!this.#open) return false
    try {
      this.channel.ack(message)
      return true
    } catch {
      return false
    }
  }

  /** Nack of one message: `requeue` hands it back to the queue, otherwise it is dead-lettered or dropped. */
  nack(message: AmqpMessage, requeue: boolean): boolean {
    if (!this.#open) return false
    try {
      this.channel.nack(message, false, requeue)
      return true
    } catch {
      return false
    }
  }

  /** Closes the channel; acknowledgements sent before are processed by the broker when close-ok arrives. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    this.#open = false
    const closeOk = this.channel.close().catch(() => {})
    this.#closing = Promise.race([closeOk, this.#closed])
    return this.#closing
  }
}

interface PendingReturn {
  replyText: string | undefined
}

/**
 * A confirm channel: `publish` resolves on the broker's ack and rejects on nack, on a `mandatory` return, or
 * when the channel closes first (never resent). Tracks `drain` back-pressure.
 * @internal
 */
export class AmqpConfirmChannel extends AmqpChannel {
  #writable = true
  readonly #drainWaiters = new Set<Waiter<void>>()
  // mandatory publishes by message id; a basic.return precedes the ack of the same message
  readonly #returnable = new Map<string, PendingReturn[]>()

  constructor(channel: ConfirmChannel, target: string, logger: Logger) {
    super(channel, target, logger)
    channel.on('drain', () => this.#drained())
    channel.on('close', () => this.#drained())
    channel.on('return', (message: Message) => {
      const id: unknown = message.properties.messageId
      const pending = typeof id === 'string' ? this.#returnable.get(id) : undefined
      const entry = pending?.find((p) => p.replyText === undefined)
      if (entry === undefined) return
      const fields = message.fields as unknown as { replyCode?: number; replyText?: string }
      entry.replyText = `${fields.replyCode ?? ''} ${fields.replyText ?? 'unroutable'}`.trim()
    })
  }

  /** False after a publish filled the write buffer, until amqplib emits `drain`. */
  get writable(): boolean {
    return this.#writable
  }

  whenWritable(signal?: AbortSignal): Promise<void> {
    if (this.#writable || !this.isOpen) return Promise.resolve()
    return waitFor(this.#drainWaiters, signal)
  }

  /** Publishes and resolves once the broker confirms it. */
  publish(exchange: string, routingKey: string, content: Buffer, options: AmqpPublishOptions): Promise<void> {
    const where = exchange === '' ? `queue "${routingKey}"` : `exchange "${exchange}"`
    return new Promise<void>((resolve, reject) => {
      const ret: PendingReturn | undefined = options.mandatory === true ? { replyText: undefined } : undefined
      if (ret !== undefined) this.#track(options.messageId, ret)
      const settle = (err: unknown): void => {
        if (ret !== undefined) this.#untrack(options.messageId, ret)
        if (err !== null && err !== undefined) {
          // amqplib reports a broker nack as Error('message nacked') and a lost channel as Error('channel closed')
          if (err instanceof Error && err.message === 'message nacked') reject(errors.publishNacked(where))
          else reject(errors.publishUnconfirmed(where, err))
        } else if (ret?.replyText !== undefined) {
          reject(errors.publishReturned(where, ret.replyText))
        } else {
          resolve()
        }
      }
      try {
        const channel = this.channel as ConfirmChannel
        if (!channel.publish(exchange, routingKey, content, options, settle)) this.#writable = false
      } catch (err) {
        if (ret !== undefined) this.#untrack(options.messageId, ret)
        reject(errors.publishUnconfirmed(where, err))
      }
    })
  }

  #track(id: string, entry: PendingReturn): void {
    const list = this.#returnable.get(id)
    if (list === undefined) this.#returnable.set(id, [entry])
    else list.push(entry)
  }

  #untrack(id: string, entry: PendingReturn): void {
    const list = this.#returnable.get(id)
    if (list === undefined) return
    const i = list.indexOf(entry)
    if (i !== -1) list.splice(i, 1)
    if (list.length === 0) this.#returnable.delete(id)
  }

  #drained(): void {
    this.#writable = true
    settleAll(this.#drainWaiters, (w) => w.resolve())
  }
}

function waitFor<T>(waiters: Set<Waiter<T>>, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      waiters.delete(waiter)
      reject(signal?.reason)
    }
    const waiter: Waiter<T> = {
      resolve: (value) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(value)
      },
      reject: (err) => {
        signal?.removeEventListener('abort', onAbort)
        reject(err)
      },
    }
    waiters.add(waiter)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function settleAll<T>(waiters: Set<Waiter<T>>, settle: (waiter: Waiter<T>) => void): void {
  const all = [...waiters]
  waiters.clear()
  for (const w of all) settle(w)
}

function urlWithHeartbeat(url: string, heartbeatSeconds: number | undefined): string {
  if (heartbeatSeconds === undefined) return url
  const u = new URL(url)
  u.searchParams.set('heartbeat', String(heartbeatSeconds))
  return u.toString()
}

/** `amqp://user:secret@host:5672/vh` → `amqp://host:5672/vh` (never log credentials). @internal */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`
  } catch {
    return '(invalid URL)'
  }
}
