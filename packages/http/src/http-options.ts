import { MAX_DURATION_MS, validateDuration, type HeaderFilter } from '@dromedary/core'
import { errors } from './errors.js'

/** Options of `httpComponent`. Durations are whole milliseconds from 1 to 2 147 483 647. */
export interface HttpComponentOptions {
  /** Port of the inbound server (0 = an ephemeral port, see `address`). @default 8080 */
  port?: number
  /** Interface the inbound server binds to. @default '127.0.0.1' */
  host?: string
  /** Largest accepted request body in bytes; larger ones get 413. @default 1048576 (1 MiB) */
  bodyLimit?: number
  /** `Retry-After` of the 503 answers sent while shutting down, in whole seconds. @default 5 */
  retryAfterSeconds?: number
  /**
   * The whole request — headers and body — must have arrived this many ms after it started, else it is
   * answered 408 and its connection closed (a slow client cannot hold a connection forever).
   * @default 30000
   */
  requestTimeoutMs?: number
  /** The request headers must have arrived this many ms after the request started, else 408. Not above `requestTimeoutMs`. @default 10000 */
  headersTimeoutMs?: number
  /** An idle keep-alive connection is closed after this many ms without a request. @default 5000 */
  keepAliveTimeoutMs?: number
  /**
   * Largest response body an outbound request reads, in bytes; a larger one fails the exchange with
   * `DROMEDARY_ERR_HTTP_RESPONSE_TOO_LARGE`. An outbound URI can lower or raise it with `maxResponseBytes=`.
   * @default 10485760 (10 MiB)
   */
  maxResponseBytes?: number
  /**
   * Which headers cross the wire besides the defaults (see docs/http.md): `inbound` is asked about every request
   * header, `outbound` about every exchange header an outbound request could send. Names in the reserved
   * namespaces (`http.`, `amqp.`, `dromedary.`, `tkv.`) never cross, and framing headers (`content-length`,
   * `transfer-encoding`, `connection`, …) are never copied, whatever the filter says.
   * @default inbound: every request header outside the reserved namespaces; outbound: plain header names
   * (no dot), without hop-by-hop and credential headers (`authorization`, `cookie`, `host`, …)
   */
  headerFilter?: HeaderFilter
}

/** `HttpComponentOptions` with every default applied and every value checked. */
export interface ResolvedHttpOptions {
  readonly port: number
  readonly host: string
  readonly bodyLimit: number
  readonly retryAfterSeconds: number
  readonly requestTimeoutMs: number
  readonly headersTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxResponseBytes: number
  readonly headerFilter: HeaderFilter | undefined
}

/** The defaults of `HttpComponentOptions`. */
export const HTTP_DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  bodyLimit: 1024 * 1024,
  retryAfterSeconds: 5,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxResponseBytes: 10 * 1024 * 1024,
} as const

/** Applies the defaults and checks every option; a bad one throws `DROMEDARY_ERR_HTTP_INVALID_OPTIONS`. */
export function resolveHttpOptions(options: HttpComponentOptions): ResolvedHttpOptions {
  const d = HTTP_DEFAULTS
  const port = check('port', options.port ?? d.port, isIntegerIn(0, 65535), 'an integer from 0 to 65535')
  const host = check(
    'host',
    options.host ?? d.host,
    (v) => typeof v === 'string' && v !== '',
    'a host name or address',
  )
  const bodyLimit = check('bodyLimit', options.bodyLimit ?? d.bodyLimit, isIntegerIn(1), 'a positive integer')
  const retryAfterSeconds = check(
    'retryAfterSeconds',
    options.retryAfterSeconds ?? d.retryAfterSeconds,
    isIntegerIn(0, Math.floor(MAX_DURATION_MS / 1000)),
    `a whole number of seconds from 0 to ${Math.floor(MAX_DURATION_MS / 1000)}`,
  )
  const requestTimeoutMs = duration('requestTimeoutMs', options.requestTimeoutMs ?? d.requestTimeoutMs)
  const headersTimeoutMs = duration('headersTimeoutMs', options.headersTimeoutMs ?? d.headersTimeoutMs)
  const keepAliveTimeoutMs = duration(
    'keepAliveTimeoutMs',
    options.keepAliveTimeoutMs ?? d.keepAliveTimeoutMs,
  )
  // Node refuses a headers timeout longer than the request timeout (the request one would never fire first).
  if (headersTimeoutMs > requestTimeoutMs)
    throw errors.invalidOptions(
      'headersTimeoutMs',
      headersTimeoutMs,
      `at most requestTimeoutMs (${requestTimeoutMs})`,
    )
  const maxResponseBytes = check(
    'maxResponseBytes',
    options.maxResponseBytes ?? d.maxResponseBytes,
    isIntegerIn(1),
    'a positive integer',
  )
  const headerFilter = check(
    'headerFilter',
    options.headerFilter,
    (v) =>
      v === undefined ||
      (typeof v === 'object' &&
        v !== null &&
        (v.inbound === undefined || typeof v.inbound === 'function') &&
        (v.outbound === undefined || typeof v.outbound === 'function')),
    'an object with optional inbound and outbound functions',
  )
  return {
    port,
    host,
    bodyLimit,
    retryAfterSeconds,
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs,
    maxResponseBytes,
    headerFilter,
  }
}

/** A duration option: whole ms from 1 to 2³¹−1 (0 would mean "never" to Node, which is what they prevent). */
function duration(name: string, value: unknown): number {
  try {
    return validateDuration(name, value, 1)
  } catch (err) {
    throw errors.invalidOptions(
      name,
      value,
      `a whole number of milliseconds from 1 to ${MAX_DURATION_MS}`,
      err,
    )
  }
}

function isIntegerIn(min: number, max = Number.MAX_SAFE_INTEGER): (v: unknown) => boolean {
  return (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
}

function check<T>(name: string, value: T, ok: (v: T) => boolean, expected: string): T {
  if (!ok(value)) throw errors.invalidOptions(name, value, expected)
  return value
}
