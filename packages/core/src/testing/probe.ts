import type { Exchange } from '../exchange/exchange.js'
import { within } from './waits.js'

interface Held {
  readonly id: string
  release(): void
}

/**
 * The steps of the route under test. `step` records each exchange as started and, while holding, keeps it in
 * flight until released — or until its `signal` aborts, which it records and fails on, as a well-behaved user
 * step does. `done`, the last step, records the exchange as completed: the engine runs no step of an aborted
 * exchange, so an id in `completed` finished normally.
 * @internal
 */
export class Probe {
  readonly started: string[] = []
  readonly completed: string[] = []
  /** Ids whose exchange saw its signal abort while held. */
  readonly aborted: string[] = []
  readonly #held: Held[] = []
  readonly #idOf: (exchange: Exchange) => string
  #holding = false
  #waiters: Array<() => void> = []

  constructor(idOf: (exchange: Exchange) => string) {
    this.#idOf = idOf
  }

  /** Ids of the exchanges held right now. */
  get held(): string[] {
    return this.#held.map((h) => h.id)
  }

  /** From now on every exchange waits in `step` until released. */
  hold(): void {
    this.#holding = true
  }

  /** Stops holding and lets every held exchange go on. */
  releaseAll(): void {
    this.#holding = false
    for (const h of this.#held.splice(0)) h.release()
    this.#changed()
  }

  readonly step = (exchange: Exchange): void | Promise<void> => {
    const id = this.#idOf(exchange)
    exchange.properties.set(ID, id)
    this.started.push(id)
    if (!this.#holding) return this.#changed()
    return new Promise<void>((resolve, reject) => {
      const signal = exchange.signal
      const onAbort = () => {
        this.#forget(held)
        this.aborted.push(id)
        this.#changed()
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      }
      const held: Held = {
        id,
        release: () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      if (signal.aborted) return onAbort()
      this.#held.push(held)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#changed()
    })
  }

  readonly done = (exchange: Exchange): void => {
    this.completed.push(exchange.properties.get(ID) as string)
    this.#changed()
  }

  /** Resolves once `condition` holds (checked now and after every start, completion or abort). */
  async until(condition: () => boolean, ms: number, what: string): Promise<void> {
    if (condition()) return
    let check: () => void = () => undefined
    const reached = new Promise<void>((resolve) => {
      check = () => {
        if (condition()) resolve()
      }
      this.#waiters.push(check)
    })
    const state = () =>
      `started ${this.started.length}, held ${this.#held.length}, completed ${this.completed.length}, aborted ${this.aborted.length}`
    try {
      await within(reached, ms, () => `${what} (${state()})`)
    } finally {
      this.#waiters = this.#waiters.filter((w) => w !== check)
    }
  }

  #forget(held: Held): void {
    const i = this.#held.indexOf(held)
    if (i !== -1) this.#held.splice(i, 1)
  }

  #changed(): void {
    for (const w of [...this.#waiters]) w()
  }
}

const ID = 'dromedary.conformance.id'
