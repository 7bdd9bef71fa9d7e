/**
 * The error registry of `@dromedary/postgres`: literal codes and small typed factories on top of core's
 * `DromedaryError`. Every code here is listed in `docs/errors.md`.
 */
import { DromedaryError } from '@dromedary/core'

/** Every error code `@dromedary/postgres` can raise. */
export const PostgresErrorCodes = {
  // configuration
  INVALID_CONFIG: 'DROMEDARY_ERR_PG_INVALID_CONFIG',
  INVALID_ENDPOINT: 'DROMEDARY_ERR_PG_INVALID_ENDPOINT',
  // database
  QUERY: 'DROMEDARY_ERR_PG_QUERY',
  SCHEMA: 'DROMEDARY_ERR_PG_SCHEMA',
  // exchanges
  INBOX_KEY: 'DROMEDARY_ERR_PG_INBOX_KEY',
  NO_TRANSACTION: 'DROMEDARY_ERR_PG_NO_TRANSACTION',
  OUTBOX_ENCODE: 'DROMEDARY_ERR_PG_OUTBOX_ENCODE',
} as const

/** A code of `@dromedary/postgres`. */
export type PostgresErrorCode = (typeof PostgresErrorCodes)[keyof typeof PostgresErrorCodes]

const E = PostgresErrorCodes
const mk = (code: PostgresErrorCode, msg: string, cause?: unknown) =>
  new DromedaryError(code, msg, cause === undefined ? undefined : { cause })

/** Typed factories for every PostgreSQL error, so messages stay consistent. @internal */
export const errors = {
  invalidConfig: (what: string, why: string) => mk(E.INVALID_CONFIG, `Invalid ${what} options: ${why}`),
  invalidEndpoint: (routeId: string, uri: string, why: string) =>
    mk(E.INVALID_ENDPOINT, `Route "${routeId}": invalid PostgreSQL endpoint "${uri}": ${why}`),
  query: (what: string, cause: unknown) =>
    mk(E.QUERY, `PostgreSQL failed to ${what}: ${messageOf(cause)}`, cause),
  schema: (table: string, cause: unknown) =>
    mk(E.SCHEMA, `Cannot create table "${table}" (createTables: true): ${messageOf(cause)}`, cause),
  inboxKey: (table: string, key: unknown) =>
    mk(
      E.INBOX_KEY,
      `The key function of inbox "${table}" must return a non-empty string, got ${typeof key === 'string' ? '""' : typeof key}`,
    ),
  noTransaction: (what: string) =>
    mk(
      E.NO_TRANSACTION,
      `${what} needs the exchange's PostgreSQL transaction: use it inside .transacted(inbox, (b) => …)`,
    ),
  outboxEncode: (table: string, cause: unknown) =>
    mk(E.OUTBOX_ENCODE, `Cannot write the message to outbox "${table}": ${messageOf(cause)}`, cause),
} satisfies Record<string, (...args: never[]) => DromedaryError>

/** The message of anything thrown. @internal */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
