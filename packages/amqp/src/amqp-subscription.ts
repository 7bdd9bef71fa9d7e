import type { ConsumerHost, Logger } from '@dromedary/core'
import type { AmqpChannel, AmqpMessage, AmqpQueueOptions } from './amqp-channel.js'
import type { AmqpConnection, AmqpSession } from './amqp-connection.js'
import { Backoff } from './backoff.js'
import { errors, messageOf } from './errors.js'

/** Where and how a consumer subscribes. @internal */
export interface SubscriptionSettings {
  readonly queue: string
  readonly prefetch: number
  /** Queue declaration options; `undefined` with `passive=true` (the queue must exist). */
  readonly declare: AmqpQueueOptions | undefined
  readonly deadLetterExchange: string | undefined
}

/** What a subscription needs from its component. @internal */
export interface SubscriptionRuntime {
  connection(): AmqpConnection
  readonly resubscribe: { readonly initialDelayMs: number; readonly maxDelayMs: number }
}

/** What a subscription reports to its consumer. @internal */
export interface SubscriptionCallbacks {
  /** Open a confirm channel (the consumer republishes on it). */
  readonly confirm: boolean
  onDelivery(attachment: Attachment, message: AmqpMessage): void
  /** The channel is gone: the broker has requeued whatever it had delivered and was not acknowledged. */
  onChannelClosed(attachment: Attachment): void
}

/** One channel the consumer consumes on; replaced after a reconnect or a channel error. @internal */
export interface Attachment {
  readonly session: AmqpSession
  readonly channel: AmqpChannel
  consumerTag: string | undefined
}

/** `draining`: intake stopped for good (prepareShutdown); `stopped`: detached. @internal */
export type SubscriptionState = 'stopped' | 'starting' | 'consuming' | 'suspended' | 'draining'

/**
 * A consumer's channel and broker subscription. It subscribes at start, again in amqplib's recovery
 * `setup` after a reconnect, and again with backoff whenever the broker takes the subscription away while
 * the connection stays up — a broker cancel (queue deleted, consumer timeout) or a channel error. While it
 * has no subscription it tells its route `setReady(false)` (`route_up` 0, readiness down); once it
 * consumes again, `setReady(true)`.
 * @internal
 */
export class AmqpSubscription {
  readonly #host: ConsumerHost
  readonly #runtime: SubscriptionRuntime
  readonly #settings: SubscriptionSettings
  readonly #callbacks: SubscriptionCallbacks
  readonly #log: Logger
  readonly #backoff: Backoff
  #state: SubscriptionState = 'stopped'
  #attachment: Attachment | undefined = undefined
  #unregister: (() => void) | undefined = undefined
  #timer: NodeJS.Timeout | undefined = undefined
  #ready = true
  /** Deliveries held off while the consumer runs a suspect on its own (`pause`). */
  #paused = false
  // (Re)subscribing runs one at a time: the recovery hook and the backoff timer may race.
  #serial: Promise<void> = Promise.resolve()

  constructor(
    host: ConsumerHost,
    runtime: SubscriptionRuntime,
    settings: SubscriptionSettings,
    callbacks: SubscriptionCallbacks,
  ) {
    this.#host = host
    this.#runtime = runtime
    this.#settings = settings
    this.#callbacks = callbacks
    this.#log = host.logger
    this.#backoff = new Backoff(runtime.resubscribe.initialDelayMs, runtime.resubscribe.maxDelayMs)
  }

  get state(): SubscriptionState {
    return this.#state
  }

  get attachment(): Attachment | undefined {
    return this.#attachment
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') return
    this.#state = 'starting'
    const connection = this.#runtime.connection()
    this.#unregister = connection.addRecoverer(this.#recover)
    try {
      await this.#exclusive(async () => this.#ensure(await connection.session()))
      if (this.#state === 'starting') this.#state = 'consuming'
    } catch (err) {
      this.#unregister()
      this.#unregister = undefined
      this.#state = 'stopped'
      const att = this.#attachment
      this.#attachment = undefined
      if (att !== undefined) void att.channel.close()
      throw err
    }
  }

  /** Cancels the broker consumer (deliveries already made still run). */
  async suspend(): Promise<void> {
    if (this.#state !== 'consuming') return
    this.#state = 'suspended'
    this.#clearTimer()
    await this.#cancel()
  }

  async resume(): Promise<void> {
    if (this.#state !== 'suspended' && this.#state !== 'draining') return
    this.#state = 'consuming'
    const connection = this.#runtime.connection()
    this.#unregister ??= connection.addRecoverer(this.#recover)
    await this.#exclusive(async () => this.#ensure(await connection.session()))
  }

  /**
   * Holds deliveries off (cancel) until `unpause`, keeping the channel; resolves on cancel-ok. Queued behind
   * any subscribing still under way, so no consumer it creates outlives the pause.
   */
  pause(): Promise<void> {
    this.#paused = true
    return this.#exclusive(() => this.#cancel())
  }

  /** Subscribes again after `pause`, unless intake has stopped or been suspended meanwhile. */
  async unpause(): Promise<void> {
    if (!this.#paused) return
    this.#paused = false
    if (!this.#wantsDeliveries()) return
    const att = this.#attachment
    if (att === undefined || !att.channel.isOpen) {
      this.#lost('its channel closed while deliveries were held')
      return
    }
    try {
      await this.#exclusive(() => this.#ensure(att.session))
    } catch (err) {
      this.#lost(messageOf(err))
    }
  }

  /** Stops intake for good: no resubscribing, no recovery; resolves on cancel-ok (or when the channel is gone). */
  drain(): Promise<void> {
    this.#state = 'draining'
    this.#stopRecovering()
    return this.#cancel()
  }

  /** Stops and hands over the channel (to be closed by the caller). */
  detach(): Attachment | undefined {
    this.#state = 'stopped'
    this.#stopRecovering()
    const att = this.#attachment
    this.#attachment = undefined
    return att
  }

  // --- subscribing -----------------------------------------------------------------------------

  // The recovery hook, run inside amqplib's `setup` after a reconnect. It never throws: a consumer that
  // cannot subscribe on the new connection (its queue is gone) retries with backoff, not the connection.
  readonly #recover = async (session: AmqpSession): Promise<void> => {
    if (this.#state === 'stopped' || this.#state === 'draining') return
    try {
      await this.#exclusive(() => this.#ensure(session))
    } catch (err) {
      this.#lost(`could not subscribe after reconnecting: ${messageOf(err)}`)
    }
  }

  /** Opens a channel on `session` unless this one is live, and consumes unless intake is held. */
  async #ensure(session: AmqpSession): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'draining') return
    let att = this.#attachment
    if (att === undefined || !att.channel.isOpen || att.session !== session) att = await this.#open(session)
    if (!this.#wantsDeliveries() || att.consumerTag !== undefined) return
    await this.#subscribe(att)
    if (this.#wantsDeliveries()) this.#setReady(true)
  }

  async #open(session: AmqpSession): Promise<Attachment> {
    const channel = this.#callbacks.confirm ? await session.openConfirmChannel() : await session.openChannel()
    try {
      await channel.prefetch(this.#settings.prefetch)
    } catch (err) {
      void channel.close()
      throw err
    }
    const att: Attachment = { session, channel, consumerTag: undefined }
    channel.onClose((err) => this.#onChannelClosed(att, err))
    this.#attachment = att
    return att
  }

  async #subscribe(att: Attachment): Promise<void> {
    const s = this.#settings
    const channel = att.channel
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
    const onMessage = (message: AmqpMessage | null): void => {
      if (message === null) this.#cancelledByBroker(att)
      else this.#callbacks.onDelivery(att, message)
    }
    att.consumerTag = await channel.consume(s.queue, onMessage)
    // A shutdown or suspend that began while this subscription was under way has cancelled nothing yet.
    if (!this.#wantsDeliveries()) await this.#cancel()
  }

  #wantsDeliveries(): boolean {
    return (this.#state === 'starting' || this.#state === 'consuming') && !this.#paused
  }

  async #cancel(): Promise<void> {
    const att = this.#attachment
    const tag = att?.consumerTag
    if (att === undefined || tag === undefined) return
    att.consumerTag = undefined
    await att.channel.cancel(tag)
  }

  // --- losing the subscription -----------------------------------------------------------------

  #cancelledByBroker(att: Attachment): void {
    att.consumerTag = undefined
    if (this.#attachment === att)
      this.#lost('the broker cancelled the consumer (queue deleted, or a consumer timeout)')
  }

  #onChannelClosed(att: Attachment, err: Error | undefined): void {
    if (this.#attachment === att) this.#attachment = undefined
    this.#callbacks.onChannelClosed(att)
    if (!this.#wantsDeliveries()) return
    // Without an error the connection went, and recovery subscribes again in its setup; the timer then finds
    // the new subscription in place. With one, the broker closed just this channel: only the timer helps.
    this.#lost(
      err === undefined ? 'the connection was lost' : `the broker closed its channel: ${err.message}`,
    )
  }

  #lost(why: string): void {
    if (!this.#wantsDeliveries()) return
    this.#setReady(false)
    if (this.#timer !== undefined) return
    const delayMs = this.#backoff.next()
    this.#log.warn(
      { route: this.#host.routeId, queue: this.#settings.queue, delayMs },
      `AMQP consumer of queue "${this.#settings.queue}" lost its subscription (${why}); subscribing again in ${delayMs} ms`,
    )
    this.#timer = setTimeout(() => void this.#resubscribe(), delayMs)
    this.#timer.unref()
  }

  async #resubscribe(): Promise<void> {
    this.#timer = undefined
    if (!this.#wantsDeliveries()) return
    let session: AmqpSession
    try {
      session = await this.#runtime.connection().session()
    } catch {
      return // the connection is closed for good (component closing, or recovery gave up)
    }
    try {
      await this.#exclusive(() => this.#ensure(session))
    } catch (err) {
      this.#lost(messageOf(err))
      return
    }
    if (!this.#wantsDeliveries() || this.#attachment?.consumerTag === undefined) return
    this.#backoff.reset()
    this.#log.info(
      { route: this.#host.routeId, queue: this.#settings.queue },
      `AMQP consumer of queue "${this.#settings.queue}" is consuming again`,
    )
  }

  #setReady(ready: boolean): void {
    if (this.#ready === ready) return
    this.#ready = ready
    this.#host.setReady(ready)
  }

  #stopRecovering(): void {
    this.#unregister?.()
    this.#unregister = undefined
    this.#clearTimer()
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.#serial.then(work, work)
    this.#serial = run.catch(() => undefined)
    return run
  }
}
