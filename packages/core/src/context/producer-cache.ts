import { messageOf } from '../errors.js'
import type { Producer } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'

interface Entry {
  readonly producer: Producer
  /** Set while the producer starts; every caller awaits the same start. */
  starting: Promise<Producer> | undefined
  /** Second chance: set on every hit, cleared when eviction passes over the entry. */
  used: boolean
}

/**
 * A bounded cache of producers by URI — `toD`'s per-route `toDCacheSize` (Camel `cacheSize`) and the
 * ProducerTemplate's. Eviction is second-chance (clock): a hit costs one map lookup and one store, no
 * reordering. An evicted producer is stopped, releasing its channel or socket. Once the context has started,
 * a new producer is started before use, and every send to it waits for that same start.
 * @internal
 */
export class ProducerCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxSize: number
  readonly #create: (uri: string) => Producer
  readonly #started: () => boolean
  readonly #logger: Logger

  constructor(maxSize: number, create: (uri: string) => Producer, started: () => boolean, logger: Logger) {
    this.#maxSize = maxSize
    this.#create = create
    this.#started = started
    this.#logger = logger
  }

  get size(): number {
    return this.#entries.size
  }

  /** The producer for `uri`, or a promise of it while it starts. */
  get(uri: string): Producer | Promise<Producer> {
    const hit = this.#entries.get(uri)
    if (hit !== undefined) {
      hit.used = true
      return hit.starting ?? hit.producer
    }
    const producer = this.#create(uri)
    if (this.#entries.size >= this.#maxSize) this.#evictOne()
    const entry: Entry = { producer, starting: undefined, used: false }
    this.#entries.set(uri, entry)
    if (!this.#started() || producer.start === undefined) return producer
    const starting = (async () => {
      try {
        await producer.start?.()
      } catch (err) {
        this.#entries.delete(uri)
        throw err
      }
      entry.starting = undefined
      return producer
    })()
    entry.starting = starting
    return starting
  }

  /** Every cached producer by URI (to start them with the context, or to stop them at NOW). */
  producers(): Array<readonly [string, Producer]> {
    return Array.from(this.#entries, ([uri, e]) => [uri, e.producer] as const)
  }

  #evictOne(): void {
    for (;;) {
      const first = this.#entries.entries().next()
      if (first.done === true) return
      const [uri, entry] = first.value
      this.#entries.delete(uri)
      if (entry.used) {
        entry.used = false
        this.#entries.set(uri, entry)
        continue
      }
      const stopped = (async () => entry.producer.stop?.())()
      stopped.catch((err: unknown) =>
        this.#logger.warn({ uri, err }, `Stopping evicted producer for ${uri} failed: ${messageOf(err)}`),
      )
      return
    }
  }
}
