import type { Server, ServerResponse, IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

const kState = Symbol('dromedary.http.socket')

/** Per-connection bookkeeping, kept on the socket itself so the hot path does no map lookup. */
interface SocketState {
  readonly tracker: SocketTracker
  /** Requests received on this socket whose response has not closed yet. */
  active: number
  /** When `active` last dropped to zero (or the connection opened). */
  idleSince: number
  linger: NodeJS.Timeout | undefined
  /** Close once `active` drops to zero (the connection's request stream is broken). */
  closeWhenIdle: boolean
  /** The response of the latest request received on this socket. */
  response: ServerResponse | undefined
}

type TrackedSocket = Socket & { [kState]?: SocketState }

/** Timings of `SocketTracker`. */
export interface SocketTrackerOptions {
  /**
   * While draining, an idle keep-alive socket is closed only once it has been idle this long, so a client that
   * just got a response and is sending its next request does not race our FIN (the keep-alive race).
   */
  readonly idleGraceMs: number
  /** After our FIN, how long to wait for the client's before the socket is destroyed. */
  readonly lingerMs: number
}

/**
 * Tracks the connections of one Node HTTP server so shutdown can close them cleanly (issue 6):
 *
 * - every close is a *lingering* close (RFC 9112 §9.6): the server half-closes (FIN) and keeps reading until the
 *   client closes too, so bytes the client already sent never make the kernel answer with a reset; requests that
 *   arrive on a socket we are closing are never processed (see `isClosing`);
 * - while draining, idle keep-alive sockets are closed once idle for `idleGraceMs`; busy ones close after their
 *   response, which carries `Connection: close`.
 */
export class SocketTracker {
  readonly #sockets = new Set<TrackedSocket>()
  readonly #idleGraceMs: number
  readonly #lingerMs: number
  #draining = false
  /** When a connection was last accepted or a response last closed. */
  #lastActivityAt = 0
  #sweepTimer: NodeJS.Timeout | undefined
  #emptyWaiters: Array<() => void> = []

  constructor(server: Server, options: SocketTrackerOptions) {
    this.#idleGraceMs = options.idleGraceMs
    this.#lingerMs = options.lingerMs
    server.on('connection', this.#onConnection)
    // First, so a response answered synchronously by the next listener is already counted.
    server.prependListener('request', SocketTracker.#onRequest)
  }

  /** Open connections. */
  get size(): number {
    return this.#sockets.size
  }

  /** True from `drain()` until `undrain()`: every response should carry `Connection: close`. */
  get draining(): boolean {
    return this.#draining
  }

  /** True when `socket` is being closed by us: a request arriving on it must not be processed. */
  static isClosing(socket: Socket): boolean {
    return !socket.writable
  }

  /** True when `socket` has a request whose response has not closed yet. */
  static busy(socket: Socket): boolean {
    return ((socket as TrackedSocket)[kState]?.active ?? 0) > 0
  }

  /** The response under way on `socket` when it is the only one (no pipelined request behind it). */
  static soleResponse(socket: Socket): ServerResponse | undefined {
    const st = (socket as TrackedSocket)[kState]
    return st?.active === 1 ? st.response : undefined
  }

  /**
   * Responses whose headers have not been written yet, one per busy connection (its only response); with
   * `arrivingOnly`, only those whose request body is still arriving (never handed to a route).
   */
  unanswered(arrivingOnly = false): ServerResponse[] {
    const out: ServerResponse[] = []
    for (const s of this.#sockets) {
      const st = s[kState]!
      const res = st.response
      if (st.active === 1 && res !== undefined && !res.headersSent && !(arrivingOnly && res.req.complete))
        out.push(res)
    }
    return out
  }

  /** Closes `socket` (lingering) once no response is under way on it: at once when none is. */
  static closeAfterAnswers(socket: Socket): void {
    const st = (socket as TrackedSocket)[kState]
    if (st === undefined || st.active === 0) lingeringClose.call(socket)
    else st.closeWhenIdle = true
  }

  /** Starts closing connections: idle ones after the grace period, busy ones after their response. */
  drain(): void {
    this.#draining = true
    this.#sweep()
  }

  /** Back to normal keep-alive (a route of the server started again). */
  undrain(): void {
    this.#draining = false
    clearTimeout(this.#sweepTimer)
    this.#sweepTimer = undefined
  }

  /** Closes every idle connection now, without waiting for the grace period (forced stop). */
  endIdle(): void {
    for (const s of this.#sockets) if (s[kState]!.active === 0 && s.writable) lingeringClose.call(s)
  }

  /** Resolves true once every connection is closed, or false after `timeoutMs`. Event-driven. */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#sockets.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#emptyWaiters = this.#emptyWaiters.filter((w) => w !== done)
        resolve(false)
      }, timeoutMs)
      timer.unref()
      const done = () => {
        clearTimeout(timer)
        resolve(true)
      }
      this.#emptyWaiters.push(done)
    })
  }

  /**
   * Resolves once no connection has been accepted and no response closed for `quietMs`, or after `timeoutMs`
   * when clients keep coming. Looks first after one turn of the event loop, so connections waiting in the
   * listen backlog are accepted (and count) before it decides.
   */
  whenQuiet(quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    return new Promise((resolve) => {
      const check = () => {
        const now = Date.now()
        const quietAt = this.#lastActivityAt + quietMs
        if (quietAt <= now || now >= deadline) return resolve()
        setTimeout(check, Math.min(quietAt, deadline) - now).unref()
      }
      setImmediate(check)
    })
  }

  /** Destroys every connection still open. */
  destroyAll(): void {
    for (const s of this.#sockets) s.destroy()
  }

  readonly #onConnection = (socket: TrackedSocket): void => {
    socket[kState] = {
      tracker: this,
      active: 0,
      idleSince: Date.now(),
      linger: undefined,
      closeWhenIdle: false,
      response: undefined,
    }
    // Node's http server calls `destroySoon()` after a `Connection: close` response; make it a lingering close.
    socket.destroySoon = lingeringClose
    socket.on('close', SocketTracker.#onSocketClose)
    this.#sockets.add(socket)
    this.#lastActivityAt = socket[kState].idleSince
    if (this.#draining) this.#arm(this.#idleGraceMs)
  }

  static readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const st = (req.socket as TrackedSocket)[kState]
    if (st === undefined) return
    st.active++
    st.response = res
    res.on('close', SocketTracker.#onResponseClose)
  }

  static readonly #onResponseClose = function (this: ServerResponse): void {
    const st = (this.req.socket as TrackedSocket)[kState]
    if (st === undefined) return
    st.active--
    if (st.response === this) st.response = undefined
    st.idleSince = Date.now()
    st.tracker.#lastActivityAt = st.idleSince
    if (st.active === 0 && st.closeWhenIdle) lingeringClose.call(this.req.socket)
    // A response whose headers went out before the drain started did not say `Connection: close`.
    if (st.active === 0 && st.tracker.#draining) st.tracker.#arm(st.tracker.#idleGraceMs)
  }

  static readonly #onSocketClose = function (this: TrackedSocket): void {
    const st = this[kState]
    if (st === undefined) return
    clearTimeout(st.linger)
    const tracker = st.tracker
    tracker.#sockets.delete(this)
    if (tracker.#sockets.size === 0 && tracker.#emptyWaiters.length > 0) {
      const waiters = tracker.#emptyWaiters
      tracker.#emptyWaiters = []
      for (const w of waiters) w()
    }
  }

  #arm(ms: number): void {
    if (this.#sweepTimer !== undefined) return
    this.#sweepTimer = setTimeout(this.#sweep, ms)
    this.#sweepTimer.unref()
  }

  readonly #sweep = (): void => {
    this.#sweepTimer = undefined
    if (!this.#draining) return
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const s of this.#sockets) {
      const st = s[kState]!
      if (st.active > 0 || !s.writable) continue
      const due = st.idleSince + this.#idleGraceMs
      if (due <= now) lingeringClose.call(s)
      else if (due < next) next = due
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next - now)
  }

  /** @internal used by `lingeringClose` */
  get lingerMs(): number {
    return this.#lingerMs
  }
}

/** Half-closes the socket (FIN once the response is flushed) and destroys it only if the client never closes. */
function lingeringClose(this: TrackedSocket): void {
  const st = this[kState]
  if (this.writable) this.end()
  if (st === undefined) {
    this.destroy()
    return
  }
  if (st.linger !== undefined || this.destroyed) return
  st.linger = setTimeout(destroySocket, st.tracker.lingerMs, this)
  st.linger.unref()
}

function destroySocket(socket: Socket): void {
  socket.destroy()
}
