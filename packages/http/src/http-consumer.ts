import type { Consumer, ConsumerHost, Exchange, StopOptions } from '@dromedary/core'
import type { Increment, HttpMetrics } from './http-metrics.js'
import type { HttpMethod } from './http-router.js'
import type { HttpServer } from './http-server.js'
import type { Arrival, ReplyHandle, RequestTarget, ResponseHeaders } from './request-target.js'

/**
 * `created` → `started` ⇄ `suspended`; `prepareShutdown` → `draining`; `stop` → `stopped` (→ `started` again).
 * Only `started` processes requests; the others answer 503.
 */
export type HttpConsumerState = 'created' | 'started' | 'suspended' | 'draining' | 'stopped'

/** What a consumer needs from its component: the shared server of its port and the metrics. */
export interface HttpBinding {
  readonly metrics: HttpMetrics
  /** Registers the consumer's method and path on the shared server and makes sure the server listens. */
  attach(consumer: HttpConsumer): Promise<HttpServer>
  /** Called after every state change: the server drains once none of its routes accepts requests any more. */
  intakeChanged(): void
}

const SHUTTING_DOWN = 'The server is shutting down; retry on another instance'

/**
 * The consumer of `http:/path?method=…`: turns each matched request into an exchange, runs it through the
 * route and answers with the final message (SPEC §6). A request is in flight from the moment its headers arrive
 * while the route takes requests: while its body is still arriving it counts as pending (the drain waits for it),
 * then as long as its exchange runs.
 */
export class HttpConsumer implements Consumer, RequestTarget {
  readonly method: HttpMethod
  readonly path: string
  readonly #host: ConsumerHost
  readonly #binding: HttpBinding
  /** Replies whose exchange is still running (only those that went asynchronous). */
  readonly #pending = new Set<ReplyHandle>()
  /** Admitted requests whose body is still arriving: they will be processed whatever the state by then. */
  readonly #arriving = new Set<Arrival>()
  readonly #byStatus = new Map<number, Increment>()
  readonly #suspended: string
  readonly #stopped: string
  #state: HttpConsumerState = 'created'
  #server: HttpServer | undefined

  constructor(host: ConsumerHost, binding: HttpBinding, method: HttpMethod, path: string) {
    this.#host = host
    this.#binding = binding
    this.method = method
    this.path = path
    this.#suspended = `Route "${host.routeId}" is suspended`
    this.#stopped = `Route "${host.routeId}" is stopped`
  }

  get routeId(): string {
    return this.#host.routeId
  }

  get state(): HttpConsumerState {
    return this.#state
  }

  /** True while the route takes requests or will again soon (suspended). */
  get accepting(): boolean {
    return this.#state === 'started' || this.#state === 'suspended'
  }

  // --- lifecycle (Consumer SPI) ------------------------------------------------------------------

  async start(): Promise<void> {
    this.#server = await this.#binding.attach(this)
    this.#state = 'started'
    // Zeroed so a 503-rate query has a series from the start (SPEC §8).
    this.#counter(503).inc(0)
    this.#binding.intakeChanged()
  }

  suspend(): void {
    if (this.#state === 'started') this.#state = 'suspended'
  }

  resume(): void {
    if (this.#state !== 'suspended' && this.#state !== 'draining') return
    this.#state = 'started'
    this.#binding.intakeChanged()
  }

  /** Stops intake: from now on new requests get 503 + `Retry-After` + `Connection: close`; in-flight ones go on. */
  prepareShutdown(): void {
    if (this.#state === 'stopped' || this.#state === 'created') return
    this.#state = 'draining'
    this.#binding.intakeChanged()
  }

  /** Requests admitted while their body is still arriving: taken, not yet started. */
  pendingExchanges(): number {
    return this.#arriving.size
  }

  /**
   * Forced: every request still unanswered gets 503 now — those whose exchange was aborted, and those whose body
   * is still arriving (counted as dropped by the context).
   */
  stop(options: StopOptions): void {
    const server = this.#server
    if (options.forced && server !== undefined) {
      for (const reply of this.#pending) this.#refuseShuttingDown(reply)
      this.#pending.clear()
      for (const arrival of this.#arriving) if (server.refuseArrival(arrival)) this.#countShuttingDown(503)
      if (this.#arriving.size > 0) {
        this.#arriving.clear()
        this.#host.notifyPending()
      }
    }
    if (this.#state === 'created') return
    this.#state = 'stopped'
    this.#binding.intakeChanged()
  }

  // --- requests (the hot path) -------------------------------------------------------------------

  handle(headers: Record<string, unknown>, body: unknown, reply: ReplyHandle): void {
    // Admitted when its headers arrived (a request with a body), or now.
    const arrival = this.#arriving.size === 0 ? undefined : this.#server!.arrivalOf(reply)
    const admitted = arrival !== undefined && this.#arriving.has(arrival) && this.#state !== 'stopped'
    if (!admitted && this.#state !== 'started') return this.#refuse(reply)
    const host = this.#host
    const ex = host.createExchange(body, headers)
    const r = host.process(ex)
    // Pending → in flight only once the exchange is: the drain never sees zero in between.
    if (admitted) this.#settle(arrival)
    if (r === undefined) return this.#reply(ex, reply)
    this.#pending.add(reply)
    void this.#finish(ex, reply, r)
  }

  /** Admits a request with a body while the route takes requests: it is in flight from now on. */
  admit(arrival: Arrival): boolean {
    if (this.#state !== 'started') return false
    this.#arriving.add(arrival)
    return true
  }

  settled(arrival: Arrival): void {
    this.#settle(arrival)
  }

  rejected(status: number): void {
    if (status === 503) this.#countShuttingDown(status)
    else this.#counter(status).inc()
  }

  #settle(arrival: Arrival): void {
    if (this.#arriving.delete(arrival)) this.#host.notifyPending()
  }

  async #finish(ex: Exchange, reply: ReplyHandle, r: Promise<void>): Promise<void> {
    try {
      await r
    } catch (err) {
      // `process` never rejects by contract; if it does, the exchange failed.
      ex.exception ??= err
    }
    // Absent when a forced stop already answered 503.
    if (this.#pending.delete(reply)) this.#reply(ex, reply)
  }

  #reply(ex: Exchange, reply: ReplyHandle): void {
    const server = this.#server!
    if (server.isAnswered(reply)) return
    if (ex.exception !== undefined) {
      if (this.#host.wasAborted(ex)) return this.#refuseShuttingDown(reply)
      this.#host.logger.debug(
        { route: this.#host.routeId, exchangeId: ex.id, err: ex.exception },
        'HTTP exchange failed; answering 500',
      )
      this.#count(server.problem(reply, 500, 'The exchange failed', { exchangeId: ex.id }))
      return
    }
    const headers = ex.message.headers
    const status = statusOf(headers['http.status'])
    if (status === undefined) {
      this.#host.logger.warn(
        { route: this.#host.routeId, exchangeId: ex.id, status: headers['http.status'] },
        'Invalid http.status header (expected an integer from 200 to 599); answering 500',
      )
      this.#count(server.problem(reply, 500, 'The route set an invalid status', { exchangeId: ex.id }))
      return
    }
    const extra = headers['http.responseHeaders']
    this.#count(server.send(reply, status, ex.message.body, isHeaderRecord(extra) ? extra : undefined))
  }

  #refuse(reply: ReplyHandle): void {
    const server = this.#server!
    const state = this.#state
    if (state === 'draining' || (state === 'stopped' && this.#host.shutdownLevel !== 'running'))
      return this.#refuseShuttingDown(reply)
    this.#count(server.unavailable(reply, state === 'suspended' ? this.#suspended : this.#stopped, false))
  }

  #refuseShuttingDown(reply: ReplyHandle): void {
    this.#countShuttingDown(this.#server!.unavailable(reply, SHUTTING_DOWN, true))
  }

  #countShuttingDown(status: number): void {
    if (status === 0) return
    this.#binding.metrics.shuttingDown.inc()
    this.#count(status)
  }

  #count(status: number): void {
    if (status !== 0) this.#counter(status).inc()
  }

  #counter(status: number): Increment {
    let c = this.#byStatus.get(status)
    if (c === undefined)
      this.#byStatus.set(status, (c = this.#binding.metrics.requests(this.#host.routeId, status)))
    return c
  }
}

/** `http.status`: absent → 200; an integer (or its string) from 200 to 599; anything else is invalid. */
function statusOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return 200
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN
  return Number.isInteger(n) && n >= 200 && n <= 599 ? n : undefined
}

function isHeaderRecord(value: unknown): value is ResponseHeaders {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
