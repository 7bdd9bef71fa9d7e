/**
 * The only module that imports amqplib. It owns one recovering connection (amqplib's built-in `recovery`:
 * reconnect with backoff, then a `setup` hook) and opens the channels wrapped by amqp-channel.ts, so the
 * rest of the package sees small, typed operations whose failures are `DromedaryError`s.
 */
import type { Logger } from '@dromedary/core'
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib'
import { AmqpChannel, AmqpConfirmChannel } from './amqp-channel.js'
import { settlesWithin } from './bounded.js'
import { coalesceWrites } from './coalesce-writes.js'
import { errors } from './errors.js'

/** Settings of one connection (already validated by the component). @internal */
export interface AmqpConnectionSettings {
  readonly url: string
  readonly heartbeatSeconds: number | undefined
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly maxRetries: number
  readonly initialMaxRetries: number
  /** Bounds the TCP connect and the AMQP handshake of each attempt (a broker that accepts and stays silent). */
  readonly connectTimeoutMs: number
  readonly connectionName: string
  readonly logger: Logger
  /** Called after every successful reconnect (not the first connect). */
  readonly onReconnect: () => void
}

const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

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
  #topology: Recoverer | undefined = undefined
  readonly #sessionWaiters = new Set<Waiter<AmqpSession>>()
  readonly #unblockWaiters = new Set<Waiter<void>>()
  #model: RecoveringChannelModel | undefined
  #session: AmqpSession | undefined
  #settingUp: AmqpSession | undefined
  /** The newest incarnation, from the moment recovery set it up: the socket to destroy on a hard close. */
  #live: AmqpSession | undefined
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
        timeout: s.connectTimeoutMs,
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

  /** Declares the component's topology after every reconnect, before any consumer is re-established. */
  setTopology(declare: Recoverer): void {
    this.#topology = declare
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

  /**
   * Stops recovery and closes the connection (Connection.Close, awaiting close-ok). When close-ok does not
   * come within `timeoutMs`, or `signal` aborts first, the socket is destroyed (the broker requeues every
   * unacknowledged message when it notices) and this resolves `false`. Idempotent.
   */
  async close(options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<boolean> {
    this.#closed = true
    const err = errors.connectionClosed(this.target)
    settleAll(this.#sessionWaiters, (w) => w.reject(err))
    settleAll(this.#unblockWaiters, (w) => w.resolve())
    this.#session = undefined
    const model = this.#model
    this.#model = undefined
    if (model === undefined) return true
    // amqplib's RecoveringChannelModel.close never rejects: it stops reconnecting and closes the live model.
    // It never settles without close-ok, not even once the socket is gone, so it is raced, never awaited.
    const live = this.#live
    const closing = model.close()
    const done = live === undefined ? closing : Promise.race([closing, live.closed])
    if (await settlesWithin(done, options.timeoutMs, options.signal)) return true
    this.#live?.destroySocket('the broker did not answer Connection.Close')
    return false
  }

  /** Destroys the live socket at once (the broker requeues what was unacknowledged); recovery reconnects. */
  destroySocket(why: string): void {
    this.#live?.destroySocket(why)
  }

  // Runs inside amqplib's recovery before the connection is reported up. Throwing makes amqplib close this
  // model and retry with backoff, so a consumer that cannot be re-established is retried rather than lost.
  async #setup(model: ChannelModel): Promise<void> {
    const log = this.#settings.logger
    // amqplib emits 'error' on the model before 'close'; an EventEmitter without an 'error' listener throws.
    model.on('error', (err: Error) => log.warn({ err, connection: this.target }, 'AMQP connection error'))
    const session = new AmqpSession(model, ++this.#generation, this.target, log)
    this.#live = session
    if (this.#topology !== undefined) {
      try {
        await this.#topology(session)
      } catch (err) {
        log.error(
          { err, connection: this.target },
          'AMQP topology could not be declared after reconnecting; retrying the connection',
        )
        throw err
      }
    }
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
  /** Resolves when this incarnation's connection is gone (closed by either side, or its socket lost). */
  readonly closed: Promise<void>
  /** Frames written in one pass of amqplib's multiplexer leave in one socket write (see coalesce-writes.ts). */
  readonly coalesced: boolean

  constructor(model: ChannelModel, generation: number, target: string, logger: Logger) {
    this.#model = model
    this.generation = generation
    this.#target = target
    this.#logger = logger
    this.closed = new Promise((resolve) => model.once('close', () => resolve()))
    this.coalesced = coalesceWrites(model.connection)
  }

  /**
   * Destroys this incarnation's socket without a Close handshake: amqplib closes every channel and the
   * connection at once, and the broker requeues unacknowledged messages when it sees the socket go.
   * amqplib has no public API for it; its Connection keeps the socket as `stream`.
   */
  destroySocket(why: string): void {
    const connection = this.#model.connection as unknown as { stream?: { destroy?(err?: Error): void } }
    connection.stream?.destroy?.(new Error(why))
  }

  /** A channel; `quiet` ones do not log the broker closing them (passive declares that may fail). */
  async openChannel(options: { quiet?: boolean } = {}): Promise<AmqpChannel> {
    try {
      const logger = options.quiet === true ? silentLogger : this.#logger
      return new AmqpChannel(await this.#model.createChannel(), this.#target, logger)
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
