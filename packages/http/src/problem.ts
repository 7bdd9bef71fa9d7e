import { STATUS_CODES, type ServerResponse } from 'node:http'

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_JSON = 'application/problem+json'

/** An RFC 9457 problem object: never a stack trace or an exception message. */
export function problemBody(
  status: number,
  detail: string,
  instance: string | undefined,
  extra?: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...(instance === undefined ? {} : { instance }),
    ...extra,
  }
}

/** The path of a request target, without its query. */
export function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Answers a problem on a Node response directly, bypassing fastify: for a request whose body is still arriving
 * (timed out, or refused at close), which fastify has not handed to a route yet. Always with
 * `Connection: close`, as the rest of the body will not be read. Returns false when the response had already
 * started or its connection is gone.
 */
export function answerRaw(
  res: ServerResponse,
  status: number,
  detail: string,
  headers?: Readonly<Record<string, string>>,
): boolean {
  if (res.headersSent || res.writableEnded || res.socket === null || !res.socket.writable) return false
  const body = JSON.stringify(problemBody(status, detail, pathOf(res.req.url ?? '/')))
  res.writeHead(status, {
    ...headers,
    'content-type': PROBLEM_JSON,
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  })
  res.end(res.req.method === 'HEAD' ? undefined : body)
  return true
}

/** The `detail` of the answers to requests Node's parser rejected, by status. */
const CLIENT_ERROR_DETAIL: Readonly<Record<number, string>> = {
  400: 'The request is not valid HTTP',
  408: 'The request was not received in time',
  431: 'The request headers are too large',
}

/**
 * The status and detail answering a request Node's parser gave up on: 431 for headers over the limit, 408 for a
 * timeout (`requestTimeoutMs`, `headersTimeoutMs`), 400 for anything else — a malformed request, or one whose
 * connection ended before its body was complete.
 */
export function clientErrorProblem(err: { code?: string }): { status: number; detail: string } {
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const detail =
    err.code === 'HPE_INVALID_EOF_STATE'
      ? 'The request ended before its body was complete'
      : CLIENT_ERROR_DETAIL[status]!
  return { status, detail }
}

/**
 * The raw bytes answering a request Node's parser rejected before it became a request (no response object
 * exists), with `Connection: close`. The method is known when the packet that failed starts with the request
 * line (not when a long request arrived in several packets); a HEAD answer has no body, nor has one to a
 * request of unknown method, as it may be a HEAD.
 */
export function clientErrorAnswer(err: { code?: string; rawPacket?: unknown }): string {
  const { status, detail } = clientErrorProblem(err)
  const title = STATUS_CODES[status] ?? 'Error'
  const raw = err.rawPacket
  const method = Buffer.isBuffer(raw) ? /^([A-Z]+) /.exec(raw.toString('latin1', 0, 16))?.[1] : undefined
  if (method === undefined)
    return `HTTP/1.1 ${status} ${title}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`
  const body = JSON.stringify(problemBody(status, detail, undefined))
  return `HTTP/1.1 ${status} ${title}\r\ncontent-type: ${PROBLEM_JSON}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${method === 'HEAD' ? '' : body}`
}
