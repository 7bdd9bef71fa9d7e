// A small third-party-style component for the conformance kit's own tests and the docs example: a broker in
// memory whose consumer prefetches, runs one exchange at a time and hands unfinished work back (requeue). Its
// `faults` break one rule of the consumer contract each, so the kit's tests can show each check fails.
import type { Component, Consumer, ConsumerHost, ShutdownRunningTask, StopOptions } from '@dromedary/core'

/** Queues of message ids. */
export class MemoryBroker {
  readonly #queues = new Map<string, { ready: string[]; listeners: Set<() => void> }>()

  #queue(name: string) {
    let q = this.#queues.get(name)
    if (q === undefined) this.#queues.set(name, (q = { ready: [], listeners: new Set() }))
    return q
  }

  publish(queue: string, ids: readonly string[]): void {
    const q = this.#queue(queue)
    q.ready.push(...ids)
    for (const l of [...q.listeners]) l()
  }

  /** Puts ids back at the head of the queue (a requeue). */
  requeue(queue: string, ids: readonly string[]): void {
    if (ids.length === 0) return
    this.#queue(queue).ready.unshift(...ids)
  }

  take(queue: string): string | undefined {
    return this.#queue(queue).ready.shift()
  }

  ready(queue: string): number {
    return this.#queue(queue).ready.length
  }

  /** Takes every ready id off the queue. */
  drain(queue: string): string[] {
    return this.#queue(queue).ready.splice(0)
  }

  subscribe(queue: string, listener: () => void): () => void {
    const q = this.#queue(queue)
    q.listeners.add(listener)
    return () => q.listeners.delete(listener)
  }
}

/** Ways to break the consumer contract, one rule each. */
export interface MemoryQueueFaults {
  /** `prepareShutdown` does nothing: intake goes on. */
  readonly ignorePrepareShutdown?: boolean
  /** `pendingExchanges` always says 0. */
  readonly hidePending?: boolean
  /** A forced stop forgets the prefetched messages instead of requeueing them. */
  readonly dropOnForcedStop?: boolean
  /** An aborted exchange is acknowledged instead of requeued. */
  readonly ackAborted?: boolean
  /** `suspend` does nothing. */
  readonly ignoreSuspend?: boolean
  /** Hands prefetched messages back at `prepareShutdown` even under `completeAllTasks`. */
  readonly alwaysHandBack?: boolean
}

class MemoryQueueConsumer implements Consumer {
  readonly handsBack = true
  readonly #host: ConsumerHost
  readonly #broker: MemoryBroker
  readonly #queue: string
  readonly #prefetch: number
  readonly #faults: MemoryQueueFaults
  /** Prefetched, not started: pending. */
  #buffer: string[] = []
  #running = 0
  #unsubscribe: (() => void) | undefined
  #handBack = false

  constructor(
    host: ConsumerHost,
    broker: MemoryBroker,
    queue: string,
    prefetch: number,
    faults: MemoryQueueFaults,
  ) {
    this.#host = host
    this.#broker = broker
    this.#queue = queue
    this.#prefetch = prefetch
    this.#faults = faults
  }

  start(): void {
    this.#handBack = false
    this.#subscribe()
  }

  suspend(): void {
    if (!this.#faults.ignoreSuspend) this.#unsubscribeNow()
  }

  resume(): void {
    this.#handBack = false
    this.#subscribe()
  }

  prepareShutdown(options: StopOptions & { readonly task: ShutdownRunningTask }): void {
    if (this.#faults.ignorePrepareShutdown) return
    this.#unsubscribeNow()
    if (options.forced || options.task === 'completeCurrentTaskOnly' || this.#faults.alwaysHandBack)
      this.#giveBack(options.forced)
  }

  pendingExchanges(): number {
    return this.#faults.hidePending ? 0 : this.#buffer.length
  }

  stop(options: StopOptions): void {
    this.#unsubscribeNow()
    this.#giveBack(options.forced)
  }

  #subscribe(): void {
    this.#unsubscribe ??= this.#broker.subscribe(this.#queue, this.#fill)
    this.#fill()
  }

  #unsubscribeNow(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  /** Requeues what was prefetched and not started; from now on nothing more starts. */
  #giveBack(forced: boolean): void {
    this.#handBack = true
    if (forced && this.#faults.dropOnForcedStop) this.#buffer = []
    this.#broker.requeue(this.#queue, this.#buffer.splice(0))
    this.#host.notifyPending()
  }

  readonly #fill = (): void => {
    while (this.#unsubscribe !== undefined && this.#buffer.length + this.#running < this.#prefetch) {
      const id = this.#broker.take(this.#queue)
      if (id === undefined) break
      this.#buffer.push(id)
    }
    this.#pump()
  }

  #pump(): void {
    while (!this.#handBack && this.#running < 1 && this.#buffer.length > 0) {
      const id = this.#buffer.shift()!
      this.#running++
      const ex = this.#host.createExchange({ id })
      const r = this.#host.process(ex)
      const settle = () => {
        this.#running--
        const unfinished = this.#host.wasAborted(ex) ? !this.#faults.ackAborted : ex.exception !== undefined
        if (unfinished) this.#broker.requeue(this.#queue, [id])
        this.#fill()
      }
      if (r === undefined) settle()
      else void r.then(settle)
    }
  }
}

/** `mq:NAME?prefetch=3`: consumes queue NAME of `broker`, prefetching up to `prefetch` messages. */
export function memoryQueueComponent(broker: MemoryBroker, faults: MemoryQueueFaults = {}): Component {
  return {
    createEndpoint(uri) {
      const { prefetch } = uri.parseOptions({
        prefetch: { type: 'number', default: 3, min: 1, integer: true },
      })
      return {
        uri: uri.uri,
        createConsumer: (host) => new MemoryQueueConsumer(host, broker, uri.path, prefetch, faults),
      }
    },
  }
}
