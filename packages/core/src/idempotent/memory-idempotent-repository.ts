import { CoreErrorCodes, DromedaryError } from '../errors.js'
import type { IdempotentRepository } from '../spi/idempotent-repository.js'

/** Options of `memoryIdempotentRepository`. */
export interface MemoryIdempotentRepositoryOptions {
  /** How many keys are remembered; the least recently used key is forgotten first. @default 1000 */
  maxSize?: number
}

/** The in-memory repository: every answer is synchronous. */
export interface MemoryIdempotentRepository extends IdempotentRepository {
  add(key: string): boolean
  contains(key: string): boolean
  remove(key: string): void
  clear(): void
  /** How many keys are remembered now. */
  readonly size: number
}

/**
 * An in-process idempotent repository (Camel `MemoryIdempotentRepository`): an LRU of at most `maxSize`
 * keys that answers synchronously, so an idempotent consumer on it costs no promise per exchange. Its keys
 * die with the process: a redelivery after a crash is not recognised (see docs/exactly-once.md).
 * @example r.from('seda:in').idempotentConsumer((ex) => ex.message.body.id, { repository: memoryIdempotentRepository() })
 */
export function memoryIdempotentRepository(
  options: MemoryIdempotentRepositoryOptions = {},
): MemoryIdempotentRepository {
  const maxSize = options.maxSize ?? 1000
  if (typeof maxSize !== 'number' || !Number.isInteger(maxSize) || maxSize < 1 || maxSize > 2 ** 32)
    throw new DromedaryError(
      CoreErrorCodes.INVALID_OPTION,
      `Option "maxSize" of memoryIdempotentRepository has value ${String(maxSize)}, expected an integer from 1 to 4294967296`,
    )
  return new LruIdempotentRepository(maxSize)
}

class LruIdempotentRepository implements MemoryIdempotentRepository {
  // A Map keeps insertion order: re-inserting a key on use makes the first key the least recently used.
  readonly #keys = new Map<string, true>()
  readonly #maxSize: number

  constructor(maxSize: number) {
    this.#maxSize = maxSize
  }

  /** How many keys are remembered now. */
  get size(): number {
    return this.#keys.size
  }

  add(key: string): boolean {
    const keys = this.#keys
    if (keys.has(key)) {
      this.#touch(key)
      return false
    }
    keys.set(key, true)
    if (keys.size > this.#maxSize) keys.delete(keys.keys().next().value!)
    return true
  }

  contains(key: string): boolean {
    if (!this.#keys.has(key)) return false
    this.#touch(key)
    return true
  }

  remove(key: string): void {
    this.#keys.delete(key)
  }

  clear(): void {
    this.#keys.clear()
  }

  #touch(key: string): void {
    this.#keys.delete(key)
    this.#keys.set(key, true)
  }
}
