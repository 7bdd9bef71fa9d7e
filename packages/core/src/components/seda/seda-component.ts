import { errors } from '../../errors.js'
import {
  copyHeaders,
  type DefaultExchange,
  type Exchange,
  type SuspendSlot,
} from '../../exchange/exchange.js'
import type {
  Component,
  ComponentContext,
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
  waitForTaskToComplete: { type: 'enum', values: ['never', 'always'], default: 'never' },
  failIfNoConsumers: { type: 'boolean', default: false },
} as const

/** One named in-memory queue shared by the producers and the consumer of `seda:name`. @internal */
class SedaQueue {
  readonly messages = new Fifo<QueuedMessage>()
  /** Senders blocked on a full queue; a waiter returns false when it already left (aborted). */
  readonly spaceWaiters = new Fifo<() => boolean>()
  size: number | undefined
  consumer: SedaConsumer | undefined
  /** A route consumes this queue (one consumer route per queue). */
  claimed = false
  /** Some route sends to it (for the start-up warning about queues nobody consumes). */
  produced = false
  /**
   * Set by the consumer's `prepareShutdown`: from then on only exchanges already in flight in a route may still
   * send here (a deferred queue drains what its upstream routes still hand it); a send from outside any route
   * (a ProducerTemplate) is refused, so it cannot keep a draining queue busy.
   */
  intakeClosed = false

  constructor(readonly uri: string) {}

  offer(message: QueuedMessage): void {
    this.messages.push(message)
    this.consumer?.wake()
  }

  taken(): void {
    for (let w = this.spaceWaiters.shift(); w !== undefined; w = this.spaceWaiters.shift()) if (w()) return
  }

  /** Wakes every blocked sender (a stop): each checks again whether it may still send. */
  wakeAll(): void {
    for (let w = this.spaceWaiters.shift(); w !== undefined; w = this.spaceWaiters.shift()) w()
  }

  /** Empties the queue; a sender waiting for its message's completion learns it was dropped. */
  drop(): number {
    const dropped = this.messages.clear()
    for (const m of dropped) m.done?.(undefined, true)
    return dropped.length
  }
}

class SedaProducer implements Producer {
  constructor(
    readonly queue: SedaQueue,
    readonly opts: {
      readonly blockWhenFull: boolean
      readonly wait: boolean
      readonly failIfNoConsumers: boolean
    },
    readonly internals: CoreInternals,
  ) {}

  process(exchange: Exchange): void | Promise<void> {
    const ex = exchange as DefaultExchange
    this.#check(ex)
    const q = this.queue
    const size = q.size ?? 1000
    if (q.messages.length >= size) {
      if (!this.opts.blockWhenFull) throw errors.queueFull(q.uri, size)
      return this.#offerWhenSpace(ex, size)
    }
    return this.#offer(ex)
  }

  /** Refuses a send that would put a message where nothing will read it (SPEC §1, §4.1). */
  #check(ex: DefaultExchange): void {
    if (ex.abortReason !== undefined) throw errors.aborted(ex.abortReason)
    const level = this.internals.level.value
    const q = this.queue
    if (level === 'shutdown' || (level === 'pending' && q.consumer === undefined && q.claimed))
      throw errors.shuttingDown(`send to ${q.uri}`)
    if (q.intakeClosed && !ex.tracked) throw errors.shuttingDown(`send to ${q.uri}`)
    if (this.opts.failIfNoConsumers && q.consumer === undefined) throw errors.noConsumer(q.uri)
  }

  #offer(ex: DefaultExchange): void | Promise<void> {
    const body = ex.message.body
    const headers = copyHeaders(ex.message.headers)
    const trace = ex.traceContext
    if (!this.opts.wait) return this.queue.offer({ body, headers, trace, done: undefined })
    // waitForTaskToComplete=always: the sender completes when the consumer's exchange does, and fails (or is
    // aborted, so an acknowledging source hands it back) when that one did or the queue was dropped.
    return new Promise<void>((resolve, reject) => {
      const uri = this.queue.uri
      let taken = false
      const message: QueuedMessage = {
        body,
        headers,
        trace,
        done(err, aborted) {
          taken = true
          ex.waiting = undefined
          if (aborted || ex.abortReason !== undefined) {
            ex.abort(`not completed by the consumer of ${uri}`)
            reject(errors.aborted(ex.abortReason!))
          } else if (err !== undefined) reject(err)
          else resolve()
        },
      }
      // The sender aborted (its source will hand the message back): a message not yet taken is not run.
      ex.waiting = () => {
        if (!taken) message.cancelled = true
        reject(errors.aborted(ex.abortReason ?? 'aborted'))
      }
      this.queue.offer(message)
    })
  }

  async #offerWhenSpace(ex: DefaultExchange, size: number): Promise<void> {
    const q = this.queue
    while (q.messages.length >= size) {
      await new Promise<void>((resolve, reject) => {
        let waiting = true
        const wake = () => {
          if (!waiting) return false
          waiting = false
          ex.waiting = undefined
          resolve()
          return true
        }
        q.spaceWaiters.push(wake)
        // Aborted while blocked: stop waiting at once (the queue skips a waiter that already left).
        ex.waiting = () => {
          waiting = false
          reject(errors.aborted(ex.abortReason ?? 'aborted'))
        }
      })
      // Woken by a stop rather than by space: the queue may have no consumer any more.
      this.#check(ex)
    }
    await this.#offer(ex)
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
    this.#queue.intakeClosed = false
    this.#active = true
    this.wake()
  }

  dispose(): void {
    this.#queue.claimed = false
    if (this.#queue.consumer === this) this.#queue.consumer = undefined
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
      if (m.cancelled === true) {
        this.#host.notifyPending()
        continue
      }
      this.#running++
      const ex = this.#host.createExchange(m.body, m.headers) as DefaultExchange
      ex.slot = this
      if (m.trace !== undefined) ex.traceContext = m.trace
      // The route releases the slot when the exchange completes (no closure and promise per message to
      // learn that, issue 8); `process` never rejects.
      const r = this.#host.process(ex)
      const done = m.done
      if (done === undefined) continue
      if (r === undefined) done(ex.exception, ex.abortReason !== undefined)
      else void r.then(() => done(ex.exception, ex.abortReason !== undefined))
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

  /**
   * Graceful: keeps pulling, as it defers and drains; sends from outside any route are refused from now on.
   * Forced: takes nothing more from the queue.
   */
  prepareShutdown(options: { forced: boolean }): void {
    this.#queue.intakeClosed = true
    if (options.forced) this.#active = false
  }

  deferShutdown(): boolean {
    return true
  }

  stop(options: { forced: boolean }): void {
    this.#active = false
    const dropped = this.#queue.drop()
    if (dropped > 0) {
      this.#host.logger.warn(
        { route: this.#host.routeId, dropped },
        `${options.forced ? 'Forced stop' : 'Stop'} of ${this.#host.routeId} dropped ${dropped} queued exchanges from ${this.#queue.uri}`,
      )
      this.#host.notifyPending()
    }
    if (this.#queue.consumer === this) this.#queue.consumer = undefined
    // Wake blocked senders so they see the shutdown instead of waiting forever.
    this.#queue.wakeAll()
  }
}

/**
 * `seda:name?concurrentConsumers=1&size=1000&blockWhenFull=false&waitForTaskToComplete=never&failIfNoConsumers=false`:
 * an in-memory queue; the sender does not wait unless `waitForTaskToComplete=always`.
 */
export function sedaComponent(internals: CoreInternals): Component {
  const queues = new Map<string, SedaQueue>()
  let context: ComponentContext | undefined
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
        createProducer: () => {
          queue.produced = true
          return new SedaProducer(
            queue,
            {
              blockWhenFull: opts.blockWhenFull,
              wait: opts.waitForTaskToComplete === 'always',
              failIfNoConsumers: opts.failIfNoConsumers,
            },
            internals,
          )
        },
      }
    },
    start(ctx) {
      context = ctx
      for (const q of queues.values())
        if (q.produced && !q.claimed)
          ctx.logger.warn(
            { queue: q.uri },
            `No route consumes ${q.uri}: messages sent to it wait there and are dropped (logged, counted) at stop; set failIfNoConsumers=true to refuse them instead`,
          )
    },
    close() {
      // What is left in a queue that no route consumes — or whose route was stopped before the shutdown, or never
      // started — is never dropped silently (SPEC §1). A route stopped by the shutdown already emptied its own.
      for (const q of queues.values()) {
        const dropped = q.drop()
        if (dropped === 0) continue
        const why = q.claimed ? 'whose route is not running' : 'which no route consumes'
        context?.logger.warn(
          { queue: q.uri, dropped },
          `Dropped ${dropped} messages left in ${q.uri}, ${why}`,
        )
        internals.recordDropped(q.uri, dropped)
      }
    },
  }
}
