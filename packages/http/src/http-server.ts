/**
 * The one file of `@dromedary/http` that imports fastify. One `HttpServer` listens on one host:port with a single
 * catch-all fastify route that dispatches by method and path through `HttpRouter` — so routes can be added, stopped
 * and started again after the server listens — and answers everything else as `application/problem+json`.
 */
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net'
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http'
import type { Logger } from '@dromedary/core'
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { errors, messageOf } from './errors.js'
import { HttpRouter, type HttpMethod } from './http-router.js'
import { SocketTracker } from './socket-tracker.js'

/** Options of one server. */
export interface HttpServerOptions {
  readonly host: string
  readonly port: number
  /** Largest accepted request body in bytes. */
  readonly bodyLimit: number
  /** `Retry-After` of 503 answers, in seconds. */
  readonly retryAfterSeconds: number
  readonly logger: Logger
}

/** The address a server listens on. */
export interface HttpAddress {
  readonly host: string
  readonly port: number
}

declare const replyBrand: unique symbol
/** An opaque handle on one pending reply; only the `HttpServer` that issued it can answer it. */
export type ReplyHandle = { readonly [replyBrand]: true }

/** What a route registers: `handle` is called once per matched request and must answer through the server. */
export interface RequestTarget {
  /**
   * The request mapped per SPEC §6: `headers` holds the lower-cased request headers plus `http.method`,
   * `http.path`, `http.query` and `http.params`; `body` is parsed per content type.
   */
  handle(headers: Record<string, unknown>, body: unknown, reply: ReplyHandle): void
  /** Counts a request of this route that was answered before `handle` (400 bad body, 413 too large, …). */
  rejected?(status: number): void
}

/** Response headers a route may add. */
export type ResponseHeaders = Readonly<Record<string, string | number | string[]>>

const PROBLEM_JSON = 'application/problem+json'
const JSON_TYPE = 'application/json; charset=utf-8'
/** While draining, idle keep-alive sockets are closed once idle this long (see SocketTracker). */
const IDLE_GRACE_MS = 500
/** After our FIN, the client has this long to close its side before the socket is destroyed. */
const LINGER_MS = 2000
/** A graceful close waits this long for connections to finish before destroying them. */
const CLOSE_TIMEOUT_MS = 2000
/**
 * A graceful close keeps listening until no connection was accepted and no answer sent for this long (at most
 * CLOSE_TIMEOUT_MS): the clients whose last answers said `Connection: close` connect again at once, and must be
 * answered (503 with Retry-After), not reset by the kernel for sitting in the listen backlog when it closes.
 */
const ACCEPT_QUIET_MS = 100
/** A forced close gives written 503 answers this long to flush before destroying the sockets. */
const FORCED_FLUSH_MS = 250

type Phase = 'idle' | 'listening' | 'closed'

/** One fastify instance on one port, shared by every route of that port. */
export class HttpServer {
  readonly #options: HttpServerOptions
  readonly #fastify: FastifyInstance
  readonly #router = new HttpRouter<RequestTarget>()
  readonly #tracker: SocketTracker
  readonly #retryAfter: string
  #phase: Phase = 'idle'
  #listening: Promise<HttpAddress> | undefined
  #closing: Promise<void> | undefined
  #address: HttpAddress | undefined

  constructor(options: HttpServerOptions) {
    this.#options = options
    this.#retryAfter = String(options.retryAfterSeconds)
    const fastify = Fastify({
      logger: false,
      bodyLimit: options.bodyLimit,
      exposeHeadRoutes: false,
      forceCloseConnections: false,
      routerOptions: { maxParamLength: 8192 },
      frameworkErrors: (err, request, reply) => this.#onError(err, request, reply),
      clientErrorHandler: (err, socket) => this.#onClientError(err, socket),
    })
    this.#fastify = fastify
    this.#tracker = new SocketTracker(fastify.server, { idleGraceMs: IDLE_GRACE_MS, lingerMs: LINGER_MS })
    addBodyParsers(fastify)
    fastify.setErrorHandler((err: FastifyError, request, reply) => this.#onError(err, request, reply))
    fastify.setNotFoundHandler((request, reply) => this.#onNoRoute(request, reply))
    fastify.all('*', this.#dispatch)
  }

  /** The bound address once listening (the real port when `port` was 0). */
  get address(): HttpAddress | undefined {
    return this.#address
  }

  /** True while the server is closing connections (every answer says `Connection: close`). */
  get draining(): boolean {
    return this.#tracker.draining
  }

  /** Open client connections. */
  get connections(): number {
    return this.#tracker.size
  }

  /** Registers (or replaces) the target of `method` + `path`; returns the one it replaced. */
  route(method: HttpMethod, path: string, target: RequestTarget): RequestTarget | undefined {
    return this.#router.set(method, path, target)
  }

  /** The target registered for exactly this method and path shape. */
  routeAt(method: HttpMethod, path: string): RequestTarget | undefined {
    return this.#router.get(method, path)
  }

  /** Starts listening (once; later calls return the same promise). */
  listen(): Promise<HttpAddress> {
    if (this.#phase === 'closed') return Promise.reject(errors.closed('listen'))
    this.#listening ??= this.#listen()
    return this.#listening
  }

  async #listen(): Promise<HttpAddress> {
    const { host, port } = this.#options
    try {
      await this.#fastify.listen({ host, port })
    } catch (err) {
      this.#phase = 'closed'
      await this.#fastify.close().catch(() => undefined)
      throw errors.listenFailed(host, port, err)
    }
    const a = this.#fastify.server.address() as AddressInfo
    this.#address = { host: a.address, port: a.port }
    this.#phase = 'listening'
    return this.#address
  }

  /** From now on every answer carries `Connection: close` and idle keep-alive sockets are closed. */
  drain(): void {
    this.#tracker.drain()
  }

  /** Back to keep-alive (a route of this server accepts requests again). */
  undrain(): void {
    if (this.#phase !== 'closed') this.#tracker.undrain()
  }

  /**
   * Stops listening and closes every connection: gracefully, idle sockets get a clean FIN and busy ones close
   * after their answer (bounded by a timeout); forced, written answers get a moment to flush, then every socket
   * is destroyed. Idempotent.
   */
  close(options: { forced: boolean }): Promise<void> {
    this.#closing ??= this.#close(options.forced)
    return this.#closing
  }

  async #close(forced: boolean): Promise<void> {
    const wasListening = this.#listening !== undefined
    if (wasListening) await this.#listening?.catch(() => undefined)
    this.#phase = 'closed'
    const tracker = this.#tracker
    tracker.drain()
    if (!forced && wasListening) await tracker.whenQuiet(ACCEPT_QUIET_MS, CLOSE_TIMEOUT_MS)
    // Stop accepting before closing connections: a client that connects from now on is refused (it knows nothing
    // was received and retries elsewhere) instead of being accepted and then reset by the close below. Only the
    // listening socket: http.Server#close would also destroy idle keep-alive sockets, racing their next request.
    if (wasListening && this.#fastify.server.listening) NetServer.prototype.close.call(this.#fastify.server)
    if (forced) {
      tracker.endIdle()
      await tracker.whenEmpty(FORCED_FLUSH_MS)
    } else if (!(await tracker.whenEmpty(CLOSE_TIMEOUT_MS))) {
      tracker.endIdle()
      await tracker.whenEmpty(FORCED_FLUSH_MS)
    }
    tracker.destroyAll()
    // Runs fastify's onClose hooks; its own server.close() finds the server already stopped.
    await this.#fastify.close()
  }

  // --- answering -----------------------------------------------------------------------------

  /** True once the reply was answered (or its connection is gone), so a late answer is skipped. */
  isAnswered(handle: ReplyHandle): boolean {
    const reply = handle as unknown as FastifyReply
    return reply.sent || SocketTracker.isClosing(reply.request.raw.socket)
  }

  /**
   * Answers with `status` and `body` (string and bytes as they are, streams piped, anything else as JSON) plus
   * `headers`. Returns the status actually sent (500 when the body or headers could not be sent), or 0 when
   * the connection is gone.
   */
  send(handle: ReplyHandle, status: number, body: unknown, headers: ResponseHeaders | undefined): number {
    const reply = handle as unknown as FastifyReply
    if (reply.sent || SocketTracker.isClosing(reply.request.raw.socket)) return 0
    let payload: unknown = body
    let json = false
    if (body === undefined || body === null) payload = undefined
    else if (typeof body !== 'string' && !(body instanceof Uint8Array) && !isStream(body)) {
      try {
        payload = JSON.stringify(body)
        json = true
      } catch (err) {
        this.#options.logger.warn({ err }, `HTTP reply body cannot be serialised as JSON: ${messageOf(err)}`)
        return this.problem(handle, 500, 'The reply body cannot be serialised as JSON')
      }
    }
    if (headers !== undefined) {
      const bad = invalidHeader(headers)
      if (bad !== undefined) {
        this.#options.logger.warn(
          { header: bad },
          `Invalid HTTP response header "${bad}" in http.responseHeaders`,
        )
        return this.problem(handle, 500, 'The reply has an invalid header')
      }
      reply.headers(headers)
    }
    if (json && !reply.hasHeader('content-type')) reply.header('content-type', JSON_TYPE)
    if (this.#tracker.draining) reply.header('connection', 'close')
    reply.code(status).send(payload)
    return status
  }

  /** Answers an RFC 9457 problem (`application/problem+json`, never a stack trace). Returns the status, or 0. */
  problem(
    handle: ReplyHandle,
    status: number,
    detail: string,
    extra?: Readonly<Record<string, unknown>>,
    headers?: ResponseHeaders,
  ): number {
    const reply = handle as unknown as FastifyReply
    if (reply.sent || SocketTracker.isClosing(reply.request.raw.socket)) return 0
    const url = reply.request.url
    const q = url.indexOf('?')
    const body = {
      type: 'about:blank',
      title: STATUS_CODES[status] ?? 'Error',
      status,
      detail,
      instance: q === -1 ? url : url.slice(0, q),
      ...extra,
    }
    // Headers set for the original answer (a failed send) must not leak into the problem.
    for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name)
    if (headers !== undefined) reply.headers(headers)
    if (this.#tracker.draining) reply.header('connection', 'close')
    reply.code(status).header('content-type', PROBLEM_JSON).send(JSON.stringify(body))
    return status
  }

  /** Answers 503 with `Retry-After`; `close` adds `Connection: close` (shutting down). Returns 503, or 0. */
  unavailable(handle: ReplyHandle, detail: string, close: boolean): number {
    return this.problem(
      handle,
      503,
      detail,
      undefined,
      close ? { 'retry-after': this.#retryAfter, connection: 'close' } : { 'retry-after': this.#retryAfter },
    )
  }

  // --- fastify callbacks -----------------------------------------------------------------------

  /** The catch-all handler: the per-request hot path. */
  readonly #dispatch = (request: FastifyRequest, reply: FastifyReply): void => {
    // A request that arrived on a socket we are closing is never processed: its answer could not be written.
    if (SocketTracker.isClosing(request.raw.socket)) return
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const match = this.#router.find(request.method, path)
    if (match === undefined) return this.#onNoRoute(request, reply)
    // Object.assign, not `{ ...request.headers, 'http.method': … }`: adding properties to an object made by a
    // spread of a non-empty object costs V8 (11.x, Node 20) a new map each time, ~5 µs per request (issue 8).
    // A spread only for an own `__proto__` header (Node 20 drops it), which Object.assign would make the
    // copy's prototype.
    const raw = request.headers
    const headers: Record<string, unknown> = Object.hasOwn(raw, '__proto__')
      ? { ...raw }
      : Object.assign({}, raw)
    headers['http.method'] = request.method
    headers['http.path'] = path
    headers['http.query'] = request.query
    headers['http.params'] = match.params
    // `http.status` steers the answer; a client must not be able to set it with a request header.
    if (raw['http.status'] !== undefined) delete headers['http.status']
    match.value.handle(headers, request.body, reply as unknown as ReplyHandle)
  }

  #onNoRoute(request: FastifyRequest, reply: FastifyReply): void {
    if (SocketTracker.isClosing(request.raw.socket)) return
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const allowed = this.#router.allowed(path)
    const handle = reply as unknown as ReplyHandle
    if (allowed.length === 0) this.problem(handle, 404, `No route for ${request.method} ${path}`)
    else {
      const allow = allowed.includes('ANY')
        ? 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS'
        : allowed.join(', ')
      this.problem(handle, 405, `${request.method} is not allowed on ${path}`, undefined, { allow })
    }
  }

  #onError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    if (SocketTracker.isClosing(request.raw.socket)) return
    const code = typeof err.statusCode === 'number' ? err.statusCode : 500
    const status = code >= 400 && code < 600 ? code : 500
    let detail: string
    if (status >= 500) {
      this.#options.logger.error({ err }, `HTTP request failed: ${messageOf(err)}`)
      detail = 'The server failed to process the request'
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      detail = `The request body exceeds the limit of ${this.#options.bodyLimit} bytes`
    } else detail = err.message
    const url = request.url
    const q = url.indexOf('?')
    this.#router.find(request.method, q === -1 ? url : url.slice(0, q))?.value.rejected?.(status)
    this.problem(reply as unknown as ReplyHandle, status, detail)
  }

  /**
   * A request Node's HTTP parser rejected (bad framing, unknown method, headers over the limit, too slow): answered
   * like every other error, as a problem with `Connection: close` (unless an answer is under way on the
   * connection), then closed with a lingering close, so a client still sending its body reads the answer instead
   * of a reset. The parser stays failed, so every later chunk of the connection lands here again: only the first
   * call acts.
   */
  #onClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed || SocketTracker.isClosing(socket)) return
    if (!SocketTracker.busy(socket)) {
      const status =
        err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      const title = STATUS_CODES[status] ?? 'Error'
      const body = JSON.stringify({ type: 'about:blank', title, status, detail: CLIENT_ERROR_DETAIL[status] })
      // The method is known when the packet that failed starts with the request line (not when a long request
      // arrived in several packets). A HEAD answer has no body; nor has one to a request of unknown method, as it
      // may be a HEAD.
      const raw = err.rawPacket
      const method = Buffer.isBuffer(raw) ? /^([A-Z]+) /.exec(raw.toString('latin1', 0, 16))?.[1] : undefined
      socket.write(
        method === undefined
          ? `HTTP/1.1 ${status} ${title}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`
          : `HTTP/1.1 ${status} ${title}\r\ncontent-type: ${PROBLEM_JSON}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${method === 'HEAD' ? '' : body}`,
      )
    }
    SocketTracker.closeAfterAnswers(socket)
  }
}

/** The `detail` of the answers to requests Node's parser rejected, by status. */
const CLIENT_ERROR_DETAIL: Readonly<Record<number, string>> = {
  400: 'The request is not valid HTTP',
  408: 'The request was not received in time',
  431: 'The request headers are too large',
}

/** JSON (also `+json` types), text, urlencoded forms as objects, and anything else as a Buffer. */
function addBodyParsers(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    /^application\/[\w.+-]+\+json$/,
    { parseAs: 'string' },
    fastify.getDefaultJsonParser('error', 'error'),
  )
  fastify.addContentTypeParser(/^text\//, { parseAs: 'string' }, (_req, body, done) => done(null, body))
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => done(null, parseForm(body as string)),
  )
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
}

function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k]
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  return out
}

function isStream(body: unknown): boolean {
  return typeof (body as { pipe?: unknown }).pipe === 'function'
}

function invalidHeader(headers: ResponseHeaders): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name)
      if (Array.isArray(value)) for (const v of value) validateHeaderValue(name, v)
      else validateHeaderValue(name, String(value))
    } catch {
      return name
    }
  }
  return undefined
}
