/**
 * Channel wrappers: topology operations reject with DromedaryErrors (amqplib's error as `cause`),
 * acknowledgements never throw (they report whether they were sent), and a confirm channel settles each
 * publish by its own delivery tag. Only types come from amqplib here; amqp-connection.ts opens the channels.
 */
import type { Logger } from '@dromedary/core'
import type { Channel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib'
import { errors } from './errors.js'

/** A message delivered to a consumer. @internal */
export type AmqpMessage = ConsumeMessage

/** Properties of a published message. @internal */
export type AmqpPublishOptions = Options.Publish & { messageId: string }

/** Queue declaration options. @internal */
export type AmqpQueueOptions = Options.AssertQueue

/** Exchange declaration options. @internal */
export type AmqpExchangeOptions = Options.AssertExchange

/**
 * A channel: `close()` resolves on close-ok or when the connection takes the channel down, whichever comes
 * first (never rejects).
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

  /** Resolves when the channel is gone (closed by either side or with its connection). */
  get closed(): Promise<void> {
    return this.#closed
  }

  /** `listener` runs once when the channel is gone; `err` is set when the broker closed it with an error. */
  onClose(listener: (err: Error | undefined) => void): void {
    this.#closeListeners.push(listener)
  }

  assertQueue(queue: string, options: AmqpQueueOptions): Promise<void> {
    return topology(`declare queue "${queue}"`, () => this.channel.assertQueue(queue, options))
  }

  /** Passive declare: resolves when the queue exists, rejects with DROMEDARY_ERR_AMQP_TOPOLOGY otherwise. */
  checkQueue(queue: string): Promise<void> {
    return topology(`find queue "${queue}"`, () => this.channel.checkQueue(queue))
  }

  checkExchange(exchange: string): Promise<void> {
    return topology(`find exchange "${exchange}"`, () => this.channel.checkExchange(exchange))
  }

  assertExchange(exchange: string, type: string, options: AmqpExchangeOptions = {}): Promise<void> {
    return topology(`declare ${type} exchange "${exchange}"`, () =>
      this.channel.assertExchange(exchange, type, { durable: true, ...options }),
    )
  }

  bindQueue(queue: string, exchange: string, pattern: string, args?: object): Promise<void> {
    return topology(`bind queue "${queue}" to exchange "${exchange}" ("${pattern}")`, () =>
      this.channel.bindQueue(queue, exchange, pattern, args),
    )
  }

  bindExchange(destination: string, source: string, pattern: string, args?: object): Promise<void> {
    return topology(`bind exchange "${destination}" to exchange "${source}" ("${pattern}")`, () =>
      this.channel.bindExchange(destination, source, pattern, args),
    )
  }

  deleteQueue(queue: string): Promise<void> {
    return topology(`delete queue "${queue}"`, () => this.channel.deleteQueue(queue))
  }

  deleteExchange(exchange: string): Promise<void> {
    return topology(`delete exchange "${exchange}"`, () => this.channel.deleteExchange(exchange))
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

  /**
   * A round trip on this channel: the broker handles a channel's frames in order, so when this resolves it
   * has processed every acknowledgement sent before (a passive declare of `queue`; never rejects).
   */
  async roundTrip(queue: string): Promise<void> {
    if (!this.#open) return
    await this.channel.checkQueue(queue).catch(() => undefined)
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

/** Runs one topology operation; its failure becomes DROMEDARY_ERR_AMQP_TOPOLOGY naming `what`. */
async function topology(what: string, operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation()
  } catch (err) {
    throw errors.topology(what, err)
  }
}

/** A mandatory publish awaiting its confirm; `returned` is set when the broker returned it. */
interface Returnable {
  readonly messageId: string
  readonly content: Buffer
  returned: string | undefined
}

/** A `basic.return` waiting for the confirm frame that names its delivery tag. */
interface PendingReturn {
  readonly messageId: unknown
  readonly content: Buffer
  readonly replyText: string
}

/**
 * A confirm channel: `publish` resolves on the broker's ack and rejects on nack, on a `mandatory` return,
 * or when the channel closes first (never resent). `writable` is false from a publish that filled amqplib's
 * write buffer until `drain`.
 *
 * A return carries no delivery tag. RabbitMQ sends it while routing the message and flushes that message's
 * confirm right after, in a frame whose delivery tag is the message's own (a `multiple` ack covering it
 * stops at it: nothing later is routed yet). So a return is matched to the first confirm frame after it that
 * names an unconfirmed mandatory publish with the same message id and content — not to the first publish
 * with that id, which a repeated message id would make the wrong one.
 * @internal
 */
export class AmqpConfirmChannel extends AmqpChannel {
  #writable = true
  #drainWaiter: (() => void) | undefined = undefined
  // amqplib numbers the publishes of a channel 1, 2, 3, … (delivery tags); every publish goes through here
  #nextTag = 1
  readonly #returnable = new Map<number, Returnable>()
  readonly #returns: PendingReturn[] = []

  constructor(channel: ConfirmChannel, target: string, logger: Logger) {
    super(channel, target, logger)
    channel.on('drain', () => this.#drained())
    channel.on('close', () => this.#drained())
    channel.on('return', (message: Message) => {
      const fields = message.fields as unknown as { replyCode?: number; replyText?: string }
      this.#returns.push({
        messageId: message.properties.messageId,
        content: message.content,
        replyText: `${fields.replyCode ?? ''} ${fields.replyText ?? 'unroutable'}`.trim(),
      })
    })
    // Before amqplib's own listeners, which settle the publishes this frame confirms.
    const onConfirm = (fields: { deliveryTag: number }) => this.#matchReturn(fields.deliveryTag)
    channel.prependListener('ack', onConfirm)
    channel.prependListener('nack', onConfirm)
  }

  /** False after a publish filled the write buffer, until amqplib emits `drain`. */
  get writable(): boolean {
    return this.#writable
  }

  /** Resolves on the next `drain` (or when the channel closes); one waiter at a time, the producer's pump. */
  whenWritable(): Promise<void> {
    if (this.#writable || !this.isOpen) return Promise.resolve()
    return new Promise((resolve) => (this.#drainWaiter = resolve))
  }

  /** Publishes and resolves once the broker confirms it. */
  publish(exchange: string, routingKey: string, content: Buffer, options: AmqpPublishOptions): Promise<void> {
    const where = exchange === '' ? `queue "${routingKey}"` : `exchange "${exchange}"`
    return new Promise<void>((resolve, reject) => {
      const tag = this.#nextTag
      const ret: Returnable | undefined =
        options.mandatory === true
          ? { messageId: options.messageId, content, returned: undefined }
          : undefined
      const settle = (err: unknown): void => {
        if (ret !== undefined) this.#returnable.delete(tag)
        if (err !== null && err !== undefined) {
          // amqplib reports a broker nack as Error('message nacked') and a lost channel as Error('channel closed')
          if (err instanceof Error && err.message === 'message nacked') reject(errors.publishNacked(where))
          else reject(errors.publishUnconfirmed(where, err))
        } else if (ret?.returned !== undefined) {
          reject(errors.publishReturned(where, ret.returned))
        } else {
          resolve()
        }
      }
      let accepted: boolean
      try {
        accepted = (this.channel as ConfirmChannel).publish(exchange, routingKey, content, options, settle)
      } catch (err) {
        reject(errors.publishUnconfirmed(where, err))
        return
      }
      this.#nextTag = tag + 1
      if (ret !== undefined) this.#returnable.set(tag, ret)
      if (!accepted) this.#writable = false
    })
  }

  #matchReturn(deliveryTag: number): void {
    const pending = this.#returns[0]
    if (pending === undefined) return
    const candidate = this.#returnable.get(deliveryTag)
    if (
      candidate === undefined ||
      candidate.returned !== undefined ||
      candidate.messageId !== pending.messageId ||
      !candidate.content.equals(pending.content)
    )
      return
    candidate.returned = pending.replyText
    this.#returns.shift()
  }

  #drained(): void {
    this.#writable = true
    const waiter = this.#drainWaiter
    this.#drainWaiter = undefined
    waiter?.()
  }
}
