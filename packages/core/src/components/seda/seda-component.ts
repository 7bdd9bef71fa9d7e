import { errors } from '../../errors.js'
import {
  copyHeaders,
  type DefaultExchange,
  type Exchange,
  type SuspendSlot,
} from '../../exchange/exchange.js'
import type {
  Component,
  Consumer,
  ConsumerHost,
  Endpoint,
  EndpointUri,
  Producer,
} from '../../spi/component.js'
import type { CoreInternals } from '../internals.js'
import { Fifo, type QueuedMessage } from './seda-queue.js'

// A resolved promise to schedule pulls with: `queueMicrotask` wraps every callback in an AsyncResource, which
// cost ~0.15 µs per message here (issue 8).
const RESOLVED = Promise.resolve()

const SCHEMA = {
  concurrentConsumers: { type: 'number', default: 1, min: 1, integer: true },
  size: { type: 'number', default: 1000, min: 1, integer: true },
  blockWhenFull: { type: 'boolean', default: false },
} as const

/** One named in-memory queue shared by the producers and the consumer of `seda:name`. @internal */
class SedaQueue {
  readonly messages = new Fifo<QueuedMessage>()
  readonly spaceWaiters = new Fifo<() => void>()
  size: number | undefined
  consumer: SedaConsumer | undefined
  /** A route consumes this queue (one consumer route per queue). */
  claimed = false

  constructor(readonly uri: string) {}

  offer(message: QueuedMessage): void {
    this.messages.push(message)
    this.consumer?.wake()
  }

  taken(): void {
    const waiter = this.spaceWaiters.shift()
    if (waiter !== undefined) waiter()
  }
}

class SedaProducer implements Producer {
  constructor(
    readonly queue: SedaQueue,
    readonly blockWhenFull: boolean,
    readonly internals: CoreInternals,
  ) {}

  process(exchange: Exchange): void | Promise<void> {
    const level = this.internals.shutdownLevel
    // During shutdown a queue whose consumer already stopped would keep the message where nothing reads it.
    if (
      level === 'shutdown' ||
      (level === 'pending' && this.queue.consumer === undefined && this.queue.claimed)
    )
      throw errors.shuttingDown(`send to ${this.queue.uri}`)
    const q = this.queue
    const size = q.size ?? 1000
    const message: QueuedMessage = {
      body: exchange.message.body,
      headers: copyHeaders(exchange.message.headers),
    }
    if (q.messages.length < size) return q.offer(message)
    if (!this.blockWhenFull) throw errors.queueFull(q.uri, size)
    return this.#offerWhenSpace(message, size)
  }

  async #offerWhenSpace(message: QueuedMessage, size: number): Promise<void> {
    while (this.queue.messages.length >= size) {
      await new Promise<void>((resolve) => this.queue.spaceWaiters.push(resolve))
      if (this.internals.shutdownLevel === 'shutdown') throw errors.shuttingDown(`send to ${this.queue.uri}`)
    }
    this.queue.offer(message)
  }
}

/**
 * Pulls from the queue with up to `concurrentConsumers` exchanges at once. ShutdownAware: pending = queue
 * length; it always defers, because an in-memory queue cannot hand work back (Camel semantics).
 */
class SedaConsumer implements Consumer, SuspendSlot {
  readonly #queue: SedaQueue
  readonly #host: ConsumerHost
  readonly #concurrency: number
  #running = 0
  #active = false
  #scheduled = false

  constructor(queue: SedaQueue, host: ConsumerHost, concurrency: number) {
    this.#queue = queue
    this.#host = host
    this.#concurrency = concurrency
  }

  readonly #drainSoon = (): void => {
    this.#scheduled = false
    this.#pull()
  }

  /**
   * The exchange completed (its route releases the slot), or a suspending step (delay, asyncRoute, asyncTask)
   * frees the slot while the exchange waits: room for the next message.
   */
  release(exchange: DefaultExchange): void {
    if (exchange.slot !== this) return
    exchange.slot = undefined
    this.#running--
    this.wake()
  }

  start(): void {
    this.#queue.consumer = this
    this.#active = true
    this.wake()
  }

  /** Called when a message arrives: schedules a pull (the sender never runs the route on its own stack). */
  wake(): void {
    if (!this.#active || this.#scheduled || this.#running >= this.#concurrency) return
    this.#scheduled = true
    void RESOLVED.then(this.#drainSoon)
  }

  #pull(): void {
    const q = this.#queue
    while (this.#active && this.#running < this.#concurrency) {
      const m = q.messages.shift()
      if (m === undefined) return
      q.taken()
      this.#running++
      const ex = this.#host.createExchange(m.body, m.headers) as DefaultExchange
      ex.slot = this
      // The route releases the slot when the exchange completes (no closure and promise per message to
      // learn that, issue 8); `process` never rejects.
      void this.#host.process(ex)
    }
  }

  suspend(): void {
    this.#active = false
  }

  resume(): void {
    this.start()
  }

  pendingExchanges(): number {
    return this.#queue.messages.length
  }

  /** Graceful: keeps pulling, as it defers and drains. Forced: takes nothing more from the queue. */
  prepareShutdown(options: { forced: boolean }): void {
    if (options.forced) this.#active = false
  }

  deferShutdown(): boolean {
    return true
  }

  stop(options: { forced: boolean }): void {
    this.#active = false
    const dropped = this.#queue.messages.clear()
    if (dropped.length > 0) {
      this.#host.logger.warn(
        { route: this.#host.routeId, dropped: dropped.length },
        `${options.forced ? 'Forced stop' : 'Stop'} of ${this.#host.routeId} dropped ${dropped.length} queued exchanges from ${this.#queue.uri}`,
      )
      this.#host.notifyPending()
    }
    if (this.#queue.consumer === this) this.#queue.consumer = undefined
    // Wake blocked senders so they see the shutdown instead of waiting forever.
    for (let w = this.#queue.spaceWaiters.shift(); w !== undefined; w = this.#queue.spaceWaiters.shift()) w()
  }
}

/** `seda:name?concurrentConsumers=1&size=1000&blockWhenFull=false`: an in-memory queue; the sender does not wait. */
export function sedaComponent(internals: CoreInternals): Component {
  const queues = new Map<string, SedaQueue>()
  return {
    createEndpoint(uri: EndpointUri): Endpoint {
      const opts = uri.parseOptions(SCHEMA)
      if (uri.path === '') throw errors.invalidUri(uri.routeId, uri.uri, 'seda needs a name')
      let q = queues.get(uri.path)
      if (q === undefined) queues.set(uri.path, (q = new SedaQueue(`seda://${uri.path}`)))
      if (uri.params.has('size')) q.size ??= opts.size
      const queue = q
      return {
        uri: uri.uri,
        createConsumer(host) {
          if (queue.claimed) throw errors.duplicateConsumer(host.routeId, uri.uri)
          queue.claimed = true
          return new SedaConsumer(queue, host, opts.concurrentConsumers)
        },
        createProducer: () => new SedaProducer(queue, opts.blockWhenFull, internals),
      }
    },
  }
}
