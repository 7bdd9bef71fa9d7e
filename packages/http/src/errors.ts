/**
 * The error registry of `@dromedary/http`: literal codes and small typed factories on core's `DromedaryError`.
 * Every code here is listed in `docs/http.md` and `docs/errors.md` (a test keeps them in step). URLs in
 * messages are redacted by the caller (`redactUrl`).
 */
import { DromedaryError } from '@dromedary/core'

/** Every error code `@dromedary/http` can raise. */
export const HttpErrorCodes = {
  // configuration
  INVALID_OPTIONS: 'DROMEDARY_ERR_HTTP_INVALID_OPTIONS',
  INVALID_PATH: 'DROMEDARY_ERR_HTTP_INVALID_PATH',
  DUPLICATE_PATH: 'DROMEDARY_ERR_HTTP_DUPLICATE_PATH',
  INVALID_URL: 'DROMEDARY_ERR_HTTP_INVALID_URL',
  // lifecycle
  LISTEN_FAILED: 'DROMEDARY_ERR_HTTP_LISTEN_FAILED',
  CLOSED: 'DROMEDARY_ERR_HTTP_CLOSED',
  // exchanges (outbound producer)
  REQUEST_FAILED: 'DROMEDARY_ERR_HTTP_REQUEST_FAILED',
  OPERATION_FAILED: 'DROMEDARY_ERR_HTTP_OPERATION_FAILED',
  RESPONSE_TOO_LARGE: 'DROMEDARY_ERR_HTTP_RESPONSE_TOO_LARGE',
} as const

/** A code of `@dromedary/http`. */
export type HttpErrorCode = (typeof HttpErrorCodes)[keyof typeof HttpErrorCodes]

/** The error of a non-2xx answer to an outbound request (Camel's `HttpOperationFailedException`). */
export type HttpOperationFailedError = DromedaryError<typeof HttpErrorCodes.OPERATION_FAILED> & {
  /** The status the remote server answered. */
  readonly statusCode: number
  /** The response body, parsed like a successful one. */
  readonly responseBody: unknown
}

const E = HttpErrorCodes
const mk = <C extends HttpErrorCode>(code: C, msg: string, cause?: unknown) =>
  new DromedaryError(code, msg, cause === undefined ? undefined : { cause })

/** Typed factories for every HTTP error, so messages stay consistent. */
export const errors = {
  invalidOptions: (what: string, value: unknown, expected: string, cause?: unknown) =>
    mk(
      E.INVALID_OPTIONS,
      `httpComponent option "${what}" is ${describe(value)}, expected ${expected}`,
      cause,
    ),
  invalidPath: (routeId: string, uri: string, why: string) =>
    mk(E.INVALID_PATH, `Route "${routeId}": invalid HTTP path in URI "${uri}": ${why}`),
  duplicatePath: (routeId: string, method: string, path: string, other: string) =>
    mk(E.DUPLICATE_PATH, `Route "${routeId}": ${method} ${path} is already served by route "${other}"`),
  invalidUrl: (routeId: string, uri: string, why: string) =>
    mk(E.INVALID_URL, `Route "${routeId}": invalid outbound HTTP URL "${uri}": ${why}`),
  listenFailed: (host: string, port: number, cause: unknown) =>
    mk(E.LISTEN_FAILED, `Cannot listen on http://${host}:${port}: ${messageOf(cause)}`, cause),
  closed: (what: string) => mk(E.CLOSED, `Cannot ${what}: the HTTP server has been closed`),
  /** `url` is the redacted URL; `actual`, when given, is scrubbed from the cause's message (fetch may quote it). */
  requestFailed: (method: string, url: string, cause: unknown, actual?: string) =>
    mk(
      E.REQUEST_FAILED,
      `${method} ${url} failed: ${actual === undefined ? messageOf(cause) : messageOf(cause).split(actual).join(url)}`,
      cause,
    ),
  operationFailed: (method: string, url: string, statusCode: number, responseBody: unknown) =>
    Object.assign(mk(E.OPERATION_FAILED, `${method} ${url} answered HTTP ${statusCode}`), {
      statusCode,
      responseBody,
    }) satisfies HttpOperationFailedError,
  responseTooLarge: (method: string, url: string, limit: number) =>
    mk(
      E.RESPONSE_TOO_LARGE,
      `${method} ${url} answered with a body larger than maxResponseBytes (${limit} bytes); the request was aborted`,
    ),
} satisfies Record<string, (...args: never[]) => DromedaryError>

/** A value for an error message: strings quoted, so `'5s'` and `5` read differently. */
function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** The message of anything thrown (the cause's own `cause` when fetch wraps it). */
export function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const inner = err.cause instanceof Error ? `: ${err.cause.message}` : ''
  return `${err.message}${inner}`
}
