/**
 * Remembers the keys of messages already processed, for `.idempotentConsumer` (Camel `IdempotentRepository`).
 * Methods may answer synchronously (the in-memory repository) or with a promise (Redis, PostgreSQL).
 */
export interface IdempotentRepository {
  /** Adds `key` atomically; true when it was not there yet (not a duplicate). */
  add(key: string): boolean | Promise<boolean>
  /** True when `key` is there. */
  contains(key: string): boolean | Promise<boolean>
  /** Forgets `key` (an eagerly added key whose exchange failed, with `removeOnFailure`). */
  remove(key: string): void | Promise<void>
  /** Called once the exchange of an eagerly added key completed. @default nothing to do */
  confirm?(key: string): void | Promise<void>
  /** Forgets every key. */
  clear?(): void | Promise<void>
}
