/**
 * The one file of `@dromedary/http` that imports fastify. One `HttpServer` listens on one host:port with a single
 * catch-all fastify route that dispatches by method and path through `HttpRouter` — so routes can be added, stopped
 * and started again after the server listens — and answers everything else as `application/problem+json`.
 */
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HeaderFilter, Logger, StopOptions } from '@dromedary/core'
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { CloseDeadline } from './close-deadline.js'
import { errors, messageOf } from './errors.js'
import { HTTP_DEFAULTS } from './http-options.js'
import { HttpRouter, type HttpMethod, type RouteMatch } from './http-router.js'
import { inboundHeaders } from './inbound-headers.js'
import {
  answerRaw,
  clientErrorAnswer,
  clientErrorProblem,
  pathOf,
  PROBLEM_JSON,
  problemBody,
} from './problem.js'
import { invalidHeader, isStream } from './reply-payload.js'
import { hasBody, JSON_MEDIA_TYPE, parseForm } from './request-body.js'
import type { Arrival, ReplyHandle, RequestTarget, ResponseHeaders } from './request-target.js'
import { SocketTracker } from './socket-tracker.js'

/** Options of one server. */
export interface HttpServerOptions {
  readonly host: string
  readonly port: number
  /** Largest accepted request body in bytes. */
  readonly bodyLimit: number
  /** `Retry-After` of 503 answers, in seconds. */
  readonly retryAfterSeconds: number
  /** The whole request must arrive within this many ms, else 408. @default 30000 */
  readonly requestTimeoutMs?: number | undefined
  /** The request headers must arrive within this many ms, else 408. @default 10000 */
  readonly headersTimeoutMs?: number | undefined
  /** Idle keep-alive connections are closed after this many ms. @default 5000 */
  readonly keepAliveTimeoutMs?: number | undefined
  /** Its `inbound` is asked about every request header outside the reserved namespaces (which never enter). @default all enter */
  readonly headerFilter?: HeaderFilter | undefined
  readonly logger: Logger
}

/** The address a server listens on. */
export interface HttpAddress {
  readonly host: string
  readonly port: number
}

export type { Arrival, ReplyHandle, RequestTarget, ResponseHeaders } from './request-target.js'

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
/** How often Node looks for requests over their timeouts, at most (its default is every 30 s). */
const MAX_TIMEOUT_CHECK_MS = 1000

const SHUTTING_DOWN = 'The server is shutting down; retry on another instance'

/** The route found for a request when its headers arrived, kept on the request for the handler. */
const kMatch = Symbol('dromedary.http.match')
type RoutedRequest = IncomingMessage & { [kMatch]?: RouteMatch<RequestTarget> | undefined }

type Phase = 'idle' | 'listening' | 'closed'

/** One fastify instance on one port, shared by every route of that port. */
export class HttpServer {
  readonly #options: HttpServerOptions
  readonly #fastify: FastifyInstance
  readonly #router = new HttpRouter<RequestTarget>()
  readonly #tracker: SocketTracker
  readonly #retryAfter: string
  readonly #headerFilter: HeaderFilter | undefined
  #phase: Phase = 'idle'
  #listening: Promise<HttpAddress> | undefined
  #closing: Promise<void> | undefined
  #address: HttpAddress | undefined
  /** Passed once a close must end hard (its signal aborted): every wait of the close gives up at once. */
  readonly #deadline = new CloseDeadline()

  constructor(options: HttpServerOptions) {
    this.#options = options
    this.#retryAfter = String(options.retryAfterSeconds)
    this.#headerFilter = options.headerFilter
    const requestTimeout = options.requestTimeoutMs ?? HTTP_DEFAULTS.requestTimeoutMs
    const headersTimeout = Math.min(
      options.headersTimeoutMs ?? HTTP_DEFAULTS.headersTimeoutMs,
      requestTimeout,
    )
    const fastify = Fastify({
      logger: false,
      bodyLimit: options.bodyLimit,
      exposeHeadRoutes: false,
      forceCloseConnections: false,
      requestTimeout,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? HTTP_DEFAULTS.keepAliveTimeoutMs,
      http: {
        headersTimeout,
        // Node looks for expired requests this often; a quarter of the shorter timeout keeps a 408 within 25 %
        // of its deadline, without walking the connections more than once a second.
        connectionsCheckingInterval: Math.max(
          10,
          Math.min(MAX_TIMEOUT_CHECK_MS, Math.floor(headersTimeout / 4)),
        ),
      },
      routerOptions: { maxParamLength: 8192 },
      frameworkErrors: (err, request, reply) => this.#onError(err, request, reply),
      clientErrorHandler: (err, socket) => this.#onClientError(err, socket),
    })
    this.#fastify = fastify
    this.#tracker = new SocketTracker(fastify.server, { idleGraceMs: IDLE_GRACE_MS, lingerMs: LINGER_MS })
    // Before the tracker's and fastify's listeners: the route is found (and a request with a body admitted) the
    // moment its headers are in, not when its body has arrived.
    fastify.server.prependListener('request', this.#onArrival)
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
   * Stops listening and closes every connection. Gracefully: keeps answering 503 until clients stop connecting
   * (bounded), then idle sockets get a clean FIN and busy ones close after their answer (bounded); a request still
   * unanswered then (its body still arriving) gets 503. Forced: unanswered requests get 503 at once, written
   * answers get a moment to flush, then every socket is destroyed. Once `signal` aborts, whatever clients do (a
   * client that never reads, a request half sent), every socket is destroyed and the close resolves. Idempotent: a
   * later call adds its signal to the close under way.
   */
  close(options: StopOptions): Promise<void> {
    this.#deadline.add(options.signal)
    this.#closing ??= this.#close(options.forced).finally(() => this.#deadline.dispose())
    return this.#closing
  }

  async #close(forced: boolean): Promise<void> {
    const deadline = this.#deadline
    const wasListening = this.#listening !== undefined
    if (wasListening) await deadline.race(this.#listening!.then(noop, noop), undefined)
    this.#phase = 'closed'
    const tracker = this.#tracker
    tracker.drain()
    if (!forced && wasListening)
      await deadline.race(tracker.whenQuiet(ACCEPT_QUIET_MS, CLOSE_TIMEOUT_MS), undefined)
    // Stop accepting before closing connections: a client that connects from now on is refused (it knows nothing
    // was received and retries elsewhere) instead of being accepted and then reset by the close below. Only the
    // listening socket: http.Server#close would also destroy idle keep-alive sockets, racing their next request.
    if (wasListening && this.#fastify.server.listening) NetServer.prototype.close.call(this.#fastify.server)
    // No request is closed without an answer. One whose body is still arriving will never reach a route (they
    // have all stopped): 503 now. One whose route is still at work (left running, or forced) gets until the
    // close timeout, then 503, before its socket goes.
    this.#refuseUnanswered(true)
    if (forced || !(await deadline.race(tracker.whenEmpty(CLOSE_TIMEOUT_MS), false))) {
      this.#refuseUnanswered(false)
      tracker.endIdle()
      await deadline.race(tracker.whenEmpty(FORCED_FLUSH_MS), false)
    }
    if (deadline.passed) this.#refuseUnanswered(false) // best effort: the socket may not take it
    tracker.destroyAll()
    // Runs fastify's onClose hooks; its own server.close() resolves once the destroyed sockets are gone.
    const closed = this.#fastify.close()
    closed.catch(noop) // awaited below, unless the deadline passed first
    await deadline.race(closed, undefined)
  }

  /**
   * Answers 503 (`Retry-After`, `Connection: close`) on every connection whose only request is unanswered (with
   * `arrivingOnly`, whose body is still arriving).
   */
  #refuseUnanswered(arrivingOnly: boolean): void {
    for (const res of this.#tracker.unanswered(arrivingOnly))
      if (this.refuseArrival(res as unknown as Arrival))
        (res.req as RoutedRequest)[kMatch]?.value.rejected?.(503)
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
    const body = problemBody(status, detail, pathOf(reply.request.url), extra)
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

  /** The arrival a reply belongs to (a request admitted by `RequestTarget.admit` while its body arrived). */
  arrivalOf(handle: ReplyHandle): Arrival {
    return (handle as unknown as FastifyReply).raw as unknown as Arrival
  }

  /** Answers an admitted request whose body is still arriving with 503 (shutting down). Returns false if it could not. */
  refuseArrival(arrival: Arrival): boolean {
    return answerRaw(arrival as unknown as ServerResponse, 503, SHUTTING_DOWN, {
      'retry-after': this.#retryAfter,
    })
  }

  // --- fastify callbacks -----------------------------------------------------------------------

  /** Node's `request` event, before fastify: finds the route, and offers a request with a body to it. */
  readonly #onArrival = (req: RoutedRequest, res: ServerResponse): void => {
    const match = this.#router.find(req.method ?? '', pathOf(req.url ?? '/'))
    req[kMatch] = match
    if (match === undefined) return
    const target = match.value
    if (target.admit !== undefined && hasBody(req.headers) && target.admit(res as unknown as Arrival))
      res.once('close', settle)
  }

  /** The catch-all handler: the per-request hot path. */
  readonly #dispatch = (request: FastifyRequest, reply: FastifyReply): void => {
    const raw = request.raw as RoutedRequest
    // A request that arrived on a socket we are closing is never processed: its answer could not be written. Nor
    // is one already answered while its body arrived (408, or 503 at close).
    if (SocketTracker.isClosing(raw.socket) || reply.raw.headersSent) return
    const match = raw[kMatch]
    if (match === undefined) return this.#onNoRoute(request, reply)
    // Request headers first, so a client cannot set the `http.*` headers the route reads (`http.status`).
    const headers = inboundHeaders(request.headers, this.#headerFilter)
    headers['http.method'] = request.method
    headers['http.path'] = pathOf(request.url)
    headers['http.query'] = request.query
    headers['http.params'] = match.params
    match.value.handle(headers, request.body, reply as unknown as ReplyHandle)
  }

  #onNoRoute(request: FastifyRequest, reply: FastifyReply): void {
    if (SocketTracker.isClosing(request.raw.socket)) return
    const path = pathOf(request.url)
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
    if (this.problem(reply as unknown as ReplyHandle, status, detail) !== 0)
      (request.raw as RoutedRequest)[kMatch]?.value.rejected?.(status)
  }

  /**
   * A request Node's HTTP parser rejected (bad framing, unknown method, headers over the limit, too slow): answered
   * like every other error, as a problem with `Connection: close` (unless an answer is under way on the
   * connection), then closed with a lingering close, so a client still sending its body reads the answer instead
   * of a reset. The parser stays failed, so every later chunk of the connection lands here again: only the first
   * call acts. A request whose body is still arriving when it fails — its time is up (`requestTimeoutMs`), its
   * body is malformed, or its client ended the connection before the body was complete — has a response object
   * already, not yet handed to a route: it is answered through that (408 or 400), so its route stops waiting.
   */
  #onClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed || SocketTracker.isClosing(socket)) return
    if (SocketTracker.busy(socket)) {
      // The error is about the request under way only while its body is still being read; once that is complete
      // it is about bytes after it (a pipelined request), and the answer under way must not be touched.
      const res = SocketTracker.soleResponse(socket)
      if (res !== undefined && !res.req.complete) {
        const { status, detail } = clientErrorProblem(err)
        if (answerRaw(res, status, detail)) (res.req as RoutedRequest)[kMatch]?.value.rejected?.(status)
      }
    } else socket.write(clientErrorAnswer(err))
    SocketTracker.closeAfterAnswers(socket)
  }
}

/** JSON (also `+json` types), text, urlencoded forms as objects, and anything else as a Buffer. */
function addBodyParsers(fastify: FastifyInstance): void {
  // Every `application/…+json` type, with or without parameters (`application/vnd.api+json; charset=utf-8`);
  // fastify matches a regular expression against the whole header value. `application/json` itself is fastify's.
  fastify.addContentTypeParser(
    JSON_MEDIA_TYPE,
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

/** `close` of an admitted request's response: tells its route the admission is over. */
function settle(this: ServerResponse): void {
  ;(this.req as RoutedRequest)[kMatch]?.value.settled?.(this as unknown as Arrival)
}

function noop(): void {}
