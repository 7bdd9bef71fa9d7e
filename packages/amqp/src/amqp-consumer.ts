import {
  MAX_DURATION_MS,
  type Consumer,
  type ConsumerHost,
  type Exchange,
  type Logger,
  type ShutdownRunningTask,
  type StopOptions,
} from '@dromedary/core'
import type { AmqpConfirmChannel, AmqpMessage } from './amqp-channel.js'
import type { AmqpHeaderRules } from './amqp-headers.js'
import type { QueueCounters } from './amqp-metrics.js'
import { decode, messageIdOf, type AmqpContentType } from './amqp-message.js'
import { AmqpSubscription, type Attachment, type SubscriptionSettings } from './amqp-subscription.js'
import type { AmqpConnection } from './amqp-connection.js'
import { settlesWithin } from './bounded.js'
import { errors } from './errors.js'
import { IdleLatch } from './idle-latch.js'
import { DELIVERY_COUNT_HEADER, redeliveryVerdict, republishOptions } from './redelivery-guard.js'

export type { AmqpContentType } from './amqp-message.js'

/** The validated settings of one `amqp:queue:NAME` consumer. @internal */
export interface AmqpConsumerSettings extends SubscriptionSettings {
  /** Exchanges started at once (≤ prefetch); deliveries beyond it are pending. */
  readonly concurrency: number
  readonly maxRedeliveries: number | undefined
  readonly contentType: AmqpContentType
}

/** What a consumer needs from its component. @internal */
export interface AmqpConsumerRuntime {
  connection(): AmqpConnection
  readonly counters: QueueCounters
  readonly headers: AmqpHeaderRules
  /** Backoff of a consumer subscribing again after the broker cancelled it (the `reconnect` delays). */
  readonly resubscribe: { readonly initialDelayMs: number; readonly maxDelayMs: number }
  /** Longest wait for the broker's answer during a stop (cancel-ok, close-ok); then the socket is destroyed. */
  readonly closeTimeoutMs: number
}

interface Delivery {
  readonly attachment: Attachment
  readonly message: AmqpMessage
}

/**
 * Consumes one queue with manual acknowledgement: at most `prefetch` unacknowledged deliveries, at most
 * `concurrency` exchanges running; deliveries beyond that are pending (taken, not started). A completed
 * exchange is acked, a failed one nacked without requeue (dead-lettered, or dropped by the broker with an
 * error log), an exchange aborted by shutdown is nacked with requeue. Acknowledgements only ever go to the
 * channel the message came from: after a reconnect, exchanges of the dead channel finish unacknowledged
 * (the broker already requeued their messages). The channel and the broker subscription, including
 * subscribing again after a broker cancel, belong to `AmqpSubscription`.
 * @internal
 */
export class AmqpConsumer implements Consumer {
  readonly handsBack = true
  readonly #host: ConsumerHost
  readonly #runtime: AmqpConsumerRuntime
  readonly #settings: AmqpConsumerSettings
  readonly #log: Logger
  readonly #running = new IdleLatch()
  readonly #subscription: AmqpSubscription
  #pending: Delivery[] = []
  /** Copies being republished with their count, by message id, until the original is acked. */
  readonly #republishing = new Map<string, Promise<void>>()
  /** A suspect waiting to run on its own (deliveries paused, nothing else running or pending). */
  #isolated: Delivery | undefined = undefined
  #paused = false
  /** The suspect running on its own; nothing else starts meanwhile. */
  #runningIsolated: AmqpMessage | undefined = undefined
  #pumping = false
  /** Draining with `completeCurrentTaskOnly` (or forced): deliveries not started go back to the queue. */
  #handBack = false

  constructor(host: ConsumerHost, runtime: AmqpConsumerRuntime, settings: AmqpConsumerSettings) {
    this.#host = host
    this.#runtime = runtime
    this.#settings = settings
    this.#log = host.logger
    this.#subscription = new AmqpSubscription(host, runtime, settings, {
      // A confirm channel when deliveries may be republished with their count (maxRedeliveries).
      confirm: settings.maxRedeliveries !== undefined,
      onDelivery: (att, message) => this.#onDelivery(att, message),
      onChannelClosed: (att) => this.#dropPendingOf(att),
    })
  }

  async start(): Promise<void> {
    this.#handBack = false
    await this.#subscription.start()
  }

  /** Cancels the broker consumer; exchanges already delivered still run. */
  async suspend(): Promise<void> {
    await this.#subscription.suspend()
  }

  /** Consumes again after `suspend`, or after `prepareShutdown` when a route stop was aborted on timeout. */
  async resume(): Promise<void> {
    this.#handBack = false
    await this.#subscription.resume()
  }

  /**
   * Stops intake: cancels the broker consumer and waits for cancel-ok (after it no delivery follows), at most
   * `closeTimeoutMs` or until `signal` aborts — a broker that does not answer gets its socket destroyed.
   * Then pending deliveries are handed back (`completeCurrentTaskOnly`, forced) or started (`completeAllTasks`).
   */
  async prepareShutdown(options: StopOptions & { readonly task: ShutdownRunningTask }): Promise<void> {
    const handBack = options.forced || options.task === 'completeCurrentTaskOnly'
    const sub = this.#subscription
    if (sub.state === 'stopped') return
    if (sub.state === 'draining') {
      if (handBack && !this.#handBack) this.#handBackPending()
      return
    }
    this.#handBack = handBack
    if (options.forced) {
      // The channel is about to close anyway; never wait on a broker that may not answer.
      void sub.drain()
      this.#handBackPending()
      return
    }
    const att = sub.attachment
    if (!(await settlesWithin(sub.drain(), this.#runtime.closeTimeoutMs, options.signal)))
      this.#hangUp(att, 'basic.cancel')
    if (this.#handBack) this.#handBackPending()
    else this.#pump()
  }

  pendingExchanges(): number {
    return this.#pending.length + (this.#isolated === undefined ? 0 : 1)
  }

  deferShutdown(): boolean {
    return false
  }

  async stop(options: StopOptions): Promise<void> {
    const sub = this.#subscription
    if (sub.state === 'stopped') return
    if (!options.forced && sub.state !== 'draining') {
      await this.prepareShutdown({ ...options, forced: false, task: this.#host.shutdownRunningTask })
    }
    const att = sub.detach()
    const dropped = this.pendingExchanges()
    this.#isolated = undefined
    if (options.forced) {
      // Closing the channel makes the broker requeue everything unacknowledged, including exchanges still
      // running here. Close-ok is not awaited: a forced stop must not hang on a broker that does not answer;
      // the component closes (or destroys) the connection at NOW.
      this.#pending = []
      if (att !== undefined) void att.channel.close()
    } else {
      // Every started exchange is acked or nacked before the channel closes, and close-ok means the broker
      // has processed those acknowledgements (amqplib#637). An aborted signal ends both waits.
      await settlesWithin(this.#running.whenIdle(), MAX_DURATION_MS, options.signal)
      this.#pending = []
      if (
        att !== undefined &&
        !(await settlesWithin(att.channel.close(), this.#runtime.closeTimeoutMs, options.signal))
      )
        this.#hangUp(att, 'Channel.Close')
    }
    if (dropped > 0) this.#host.notifyPending()
  }

  // The broker did not answer in time: destroy the socket so nothing waits on it any more (the broker
  // requeues every unacknowledged message once it notices; recovery reconnects if the context goes on).
  #hangUp(att: Attachment | undefined, what: string): void {
    if (att === undefined) return
    this.#log.warn(
      {
        route: this.#host.routeId,
        queue: this.#settings.queue,
        connection: this.#runtime.connection().target,
      },
      `The AMQP broker did not answer ${what} for queue "${this.#settings.queue}" in time; destroying the connection's socket (unacknowledged messages return to the queue)`,
    )
    att.session.destroySocket(`no answer to ${what}`)
  }

  // --- deliveries (hot path) -------------------------------------------------------------------

  #onDelivery(att: Attachment, message: AmqpMessage): void {
    if (
      this.#handBack ||
      this.#runningIsolated !== undefined ||
      this.#pending.length > 0 ||
      this.#running.count >= this.#settings.concurrency
    ) {
      this.#pending.push({ attachment: att, message })
      return
    }
    this.#begin(att, message)
  }

  #begin(att: Attachment, message: AmqpMessage): void {
    const s = this.#settings
    if (this.#runningIsolated !== undefined && this.#runningIsolated !== message) {
      this.#pending.push({ attachment: att, message })
      return
    }
    if (this.#republishing.size > 0 && this.#holdCopy(att, message)) return
    if (s.maxRedeliveries !== undefined) {
      const verdict = redeliveryVerdict(message, s.maxRedeliveries)
      if (verdict.action === 'refuse') {
        const id = messageIdOf(message)
        this.#refuse(
          att,
          message,
          errors.redeliveryLimit(s.queue, id, verdict.earlierDeliveries, s.maxRedeliveries),
        )
        return
      }
      if (verdict.action === 'republish') {
        this.#republish(att, message, verdict.earlierDeliveries)
        return
      }
      if (verdict.earlierDeliveries > 0 && this.#runningIsolated !== message) {
        this.#isolate(att, message, verdict.earlierDeliveries)
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
    const ex = this.#host.createExchange(body, this.#headersOf(message))
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

  #headersOf(message: AmqpMessage): Record<string, unknown> {
    const p = message.properties
    const headers = this.#runtime.headers.inbound(p.headers)
    headers['amqp.messageId'] = p.messageId
    headers['amqp.correlationId'] = p.correlationId
    // A copy republished with its delivery count is a redelivery too, though the broker delivers it fresh.
    headers['amqp.redelivered'] =
      message.fields.redelivered ||
      (p.headers !== undefined && p.headers[DELIVERY_COUNT_HEADER] !== undefined)
    headers['amqp.routingKey'] = message.fields.routingKey
    headers['amqp.exchange'] = message.fields.exchange
    return headers
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
    this.#finished()
  }

  #finished(): void {
    this.#running.dec()
    if (this.#runningIsolated !== undefined && this.#running.count === 0) this.#endIsolation()
    if (this.#pending.length > 0) this.#pump()
    else if (this.#isolated !== undefined) this.#runIsolatedWhenQuiet()
  }

  // --- suspects: a copy that ran before may be what killed the last process --------------------

  /**
   * Runs a suspect on its own: deliveries are paused (basic.cancel), what is running finishes, what is
   * pending runs first (another suspect among them is sent to the back of the queue with its count as it
   * is), and only then the suspect starts. If it kills the process, no other message is requeued with it.
   */
  #isolate(att: Attachment, message: AmqpMessage, earlier: number): void {
    if (this.#isolated !== undefined) {
      // One suspect at a time: this one goes to the back of the queue, its count unchanged.
      this.#republish(att, message, earlier)
      return
    }
    this.#isolated = { attachment: att, message }
    void this.#subscription.pause().then(() => {
      this.#paused = true
      this.#runIsolatedWhenQuiet()
    })
  }

  #runIsolatedWhenQuiet(): void {
    const d = this.#isolated
    if (d === undefined || !this.#paused || this.#handBack) return
    if (this.#running.count > 0 || this.#pending.length > 0) return
    this.#isolated = undefined
    if (!d.attachment.channel.isOpen) {
      this.#endIsolation()
      return
    }
    this.#runningIsolated = d.message
    this.#begin(d.attachment, d.message)
    this.#host.notifyPending()
  }

  #endIsolation(): void {
    this.#runningIsolated = undefined
    this.#paused = false
    void this.#subscription.unpause()
  }

  /**
   * Republishes a redelivered message with its count, then acks the original once the copy is confirmed.
   * The copy can be delivered before that confirm; it is held until the broker has processed the original's
   * ack, so a crash while processing the copy cannot leave the original to be delivered again as well.
   */
  #republish(att: Attachment, message: AmqpMessage, earlier: number): void {
    const s = this.#settings
    this.#running.inc()
    const options = republishOptions(message, earlier, messageIdOf(message))
    const id = options.messageId
    const done = (att.channel as AmqpConfirmChannel).publish('', s.queue, message.content, options).then(
      // The round trip after the ack: once it returns, the broker has processed the ack (frames of a channel
      // are handled in order), and only then may the held copy run.
      () => (att.channel.ack(message) ? att.channel.roundTrip(s.queue) : undefined),
      (err: unknown) => {
        // Without a confirmed copy the count cannot be carried on; requeueing would loop uncounted.
        this.#refuse(att, message, err)
      },
    )
    this.#republishing.set(id, done)
    void done.then(() => {
      if (this.#republishing.get(id) === done) this.#republishing.delete(id)
      this.#finished()
    })
  }

  /** True when `message` is a copy whose original is still being republished: it begins once that is done. */
  #holdCopy(att: Attachment, message: AmqpMessage): boolean {
    if (message.properties.headers?.[DELIVERY_COUNT_HEADER] === undefined) return false
    const republishing = this.#republishing.get(messageIdOf(message))
    if (republishing === undefined) return false
    this.#running.inc()
    void republishing.then(() => {
      this.#running.dec()
      this.#begin(att, message)
    })
    return true
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
    if (this.#pumping || this.#handBack || this.#runningIsolated !== undefined) return
    this.#pumping = true
    let started = false
    try {
      while (this.#pending.length > 0 && this.#running.count < this.#settings.concurrency) {
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
    if (this.#isolated !== undefined) {
      pending.push(this.#isolated)
      this.#isolated = undefined
    }
    if (pending.length === 0) return
    this.#pending = []
    for (const d of pending)
      if (d.attachment.channel.nack(d.message, true)) this.#runtime.counters.requeued.inc()
    this.#host.notifyPending()
  }

  // Deliveries of a closed channel that had not started are back in the queue (the broker requeued them).
  #dropPendingOf(att: Attachment): void {
    if (this.#isolated?.attachment === att) {
      this.#isolated = undefined
      this.#endIsolation()
      this.#host.notifyPending()
    }
    const before = this.#pending.length
    if (before === 0) return
    this.#pending = this.#pending.filter((d) => d.attachment !== att)
    if (this.#pending.length < before) this.#host.notifyPending()
  }
}
