import type {
  Consumer,
  ConsumerHost,
  Exchange,
  HeaderFilter,
  Logger,
  ShutdownRunningTask,
  StopOptions,
} from '@dromedary/core'
import { decodeBody, type NatsContentType } from './nats-codec.js'
import type {
  NatsConnectionHandle,
  NatsFetch,
  NatsJsMessage,
  NatsPullConsumer,
  PullConsumerSpec,
} from './nats-connection.js'
import { wireHeadersOf } from './nats-connection.js'
import { findHeader, inboundHeaders } from './nats-headers.js'
import type { StreamCounters } from './nats-metrics.js'
import { errors } from './errors.js'
import { untilAborted, Waiter } from '@dromedary/core'

/** The validated settings of one `nats:stream:NAME` consumer. @internal */
export interface NatsConsumerSettings extends PullConsumerSpec {
  readonly batch: number
  readonly maxDeliveries: number
  readonly deadLetterSubject: string | undefined
  readonly nakDelayMs: number
  readonly expiresMs: number
  readonly contentType: NatsContentType
  readonly headerFilter: HeaderFilter | undefined
}

/** What a consumer needs from its component. @internal */
export interface NatsConsumerRuntime {
  connection(): NatsConnectionHandle
  readonly counters: StreamCounters
}

type State = 'stopped' | 'starting' | 'consuming' | 'suspended' | 'draining'

/** A message this consumer holds: fetched (pending) or running. */
interface Held {
  readonly msg: NatsJsMessage
  /** When it was fetched or last reported as in progress (`working()`), ms. */
  touchedAt: number
}

const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 5_000

/**
 * Consumes a durable JetStream pull consumer with explicit acks and at most `batch` messages held at once
 * (running + fetched but not started). Each fetch asks for the free slots only. A completed exchange is acked;
 * a failed one is nacked (redelivered after `nakDelayMs`) until its delivery count reaches `maxDeliveries`,
 * then dead-lettered (published to `deadLetterSubject`, then acked) or terminated with an error log; an
 * exchange aborted by shutdown is nacked at once. Messages held longer than a third of `ack_wait` are reported
 * as in progress (`working()`), so the server does not redeliver live work.
 * @internal
 */
export class NatsConsumer implements Consumer {
  readonly handsBack = true
  readonly #host: ConsumerHost
  readonly #runtime: NatsConsumerRuntime
  readonly #s: NatsConsumerSettings
  readonly #log: Logger
  /** Running exchanges (and dead-letter publishes under way), by message. */
  readonly #running = new Map<NatsJsMessage, Held>()
  readonly #idle = new Waiter()
  readonly #capacity = new Waiter()
  #pending: Held[] = []
  #state: State = 'stopped'
  #handBack = false
  #consumer: NatsPullConsumer | undefined = undefined
  /** Open pull requests, and the messages they asked for that have not arrived yet. */
  readonly #fetches = new Set<NatsFetch>()
  #outstanding = 0
  #fetchFailures = 0
  #opening: Promise<void> = Promise.resolve()
  #loop: Promise<void> | undefined = undefined
  #heartbeat: NodeJS.Timeout | undefined = undefined
  #pumping = false
  #ready = true

  constructor(host: ConsumerHost, runtime: NatsConsumerRuntime, settings: NatsConsumerSettings) {
    this.#host = host
    this.#runtime = runtime
    this.#s = settings
    this.#log = host.logger
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') return
    this.#state = 'starting'
    this.#handBack = false
    try {
      const connection = this.#runtime.connection()
      this.#consumer = await connection.pullConsumer(this.#s)
      if (this.#s.deadLetterSubject !== undefined) await connection.checkStreamFor(this.#s.deadLetterSubject)
    } catch (err) {
      this.#state = 'stopped'
      throw err
    }
    this.#state = 'consuming'
    this.#startHeartbeat(this.#consumer.ackWaitMs)
    this.#loop = this.#fetchLoop()
  }

  /** Stops fetching; the open fetch ends (filled or expired) and the messages it brought still run. */
  async suspend(): Promise<void> {
    if (this.#state !== 'consuming') return
    this.#state = 'suspended'
    this.#capacity.wake()
    await this.#loop
  }

  /** Fetches again after `suspend`, or after `prepareShutdown` when a route stop was aborted on timeout. */
  async resume(): Promise<void> {
    if (this.#state !== 'suspended' && this.#state !== 'draining') return
    await this.#loop
    this.#state = 'consuming'
    this.#handBack = false
    this.#loop = this.#fetchLoop()
  }

  async prepareShutdown(options: StopOptions & { readonly task: ShutdownRunningTask }): Promise<void> {
    if (this.#state === 'stopped') return
    const handBack = options.forced || options.task === 'completeCurrentTaskOnly'
    this.#state = 'draining'
    this.#handBack ||= handBack
    this.#capacity.wake()
    // The open fetch ends when it is filled or expires (`expiresMs`): every message it brings arrives here and is
    // handed back or processed. Cut short only when forced or when the deadline passes (those few messages are
    // then redelivered after ack_wait).
    if (options.forced) this.#stopFetches()
    else if (!(await untilAborted(this.#loop, options.signal))) this.#stopFetches()
    if (this.#handBack) this.#handBackPending()
    else this.#pump()
  }

  pendingExchanges(): number {
    return this.#pending.length
  }

  deferShutdown(): boolean {
    return false
  }

  async stop(options: StopOptions): Promise<void> {
    if (this.#state === 'stopped') return
    if (!options.forced && this.#state !== 'draining')
      await this.prepareShutdown({ ...options, task: this.#host.shutdownRunningTask })
    this.#state = 'stopped'
    this.#capacity.wake()
    let finished = !options.forced
    if (finished)
      finished = await untilAborted(
        this.#idle.until(() => this.#running.size === 0),
        options.signal,
      )
    if (!finished) {
      // Forced, or the deadline passed: everything unfinished goes back to the stream now, and what those
      // exchanges do later is not acknowledged.
      this.#stopFetches()
      this.#handBack = true
      this.#handBackPending()
      for (const held of this.#running.values()) this.#nak(held.msg, 0, 'requeued')
      this.#running.clear()
    }
    await untilAborted(this.#loop, options.signal)
    clearInterval(this.#heartbeat)
    this.#heartbeat = undefined
  }

  // --- fetching ------------------------------------------------------------------------------------

  /**
   * Keeps pull requests open for the free slots (batch − running − pending − asked for), pipelined: a new pull
   * goes out as soon as half the batch is free, while earlier ones still deliver. Resolves once intake stopped
   * and every open pull has ended.
   */
  async #fetchLoop(): Promise<void> {
    const s = this.#s
    const threshold = Math.max(1, Math.ceil(s.batch / 2))
    const open = new Set<Promise<void>>()
    while (this.#state === 'consuming') {
      if (this.#fetchFailures > 0) {
        const retryMs = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.#fetchFailures - 1))
        await this.#capacity.until(() => this.#state !== 'consuming', retryMs)
        if (this.#state !== 'consuming') break
      }
      const free = this.#free()
      if (free < threshold) {
        await this.#capacity.until(() => this.#state !== 'consuming' || this.#free() >= threshold)
        continue
      }
      this.#outstanding += free
      const task: Promise<void> = this.#receive(free).finally(() => open.delete(task))
      open.add(task)
      // Opening the pull request is asynchronous; wait for it, so the next free count is right.
      await this.#opening
    }
    await Promise.all(open)
  }

  /** Opens one pull request and takes its messages until it is filled, expires or fails. */
  async #receive(requested: number): Promise<void> {
    let received = 0
    let fetch: NatsFetch | undefined
    const opening = this.#consumer!.fetch(requested, this.#s.expiresMs, (msg) => {
      received++
      this.#outstanding--
      if (!this.#ready) this.#setReady(true)
      this.#onMessage(msg)
    })
    this.#opening = opening.then(
      () => undefined,
      () => undefined,
    )
    try {
      fetch = await opening
      this.#fetches.add(fetch)
      await fetch.done
      if (this.#fetchFailures > 0) this.#fetchFailures = 0
      this.#setReady(true)
    } catch (err) {
      if (this.#state === 'consuming') this.#fetchFailed(err)
    } finally {
      this.#outstanding -= requested - received
      if (fetch !== undefined) this.#fetches.delete(fetch)
      this.#capacity.wake()
    }
  }

  #fetchFailed(err: unknown): void {
    const s = this.#s
    this.#fetchFailures++
    this.#setReady(false)
    this.#log.warn(
      { err, route: this.#host.routeId, stream: s.stream, consumer: s.name },
      `Fetching from JetStream consumer "${s.name}" of stream "${s.stream}" failed; retrying`,
    )
  }

  #free(): number {
    return this.#s.batch - this.#running.size - this.#pending.length - this.#outstanding
  }

  #stopFetches(): void {
    for (const fetch of this.#fetches) fetch.stop()
  }

  #startHeartbeat(ackWaitMs: number): void {
    const every = Math.max(10, Math.floor(ackWaitMs / 3))
    this.#heartbeat = setInterval(() => this.#beat(every), every)
    this.#heartbeat.unref()
  }

  /** Reports messages held for a third of ack_wait as in progress, so the server does not redeliver them. */
  #beat(every: number): void {
    const now = Date.now()
    for (const held of this.#running.values()) if (now - held.touchedAt >= every) this.#working(held, now)
    for (const held of this.#pending) if (now - held.touchedAt >= every) this.#working(held, now)
  }

  #working(held: Held, now: number): void {
    held.touchedAt = now
    try {
      held.msg.working()
    } catch {
      // The connection is closed: nothing to keep alive.
    }
  }

  // --- messages (hot path) -------------------------------------------------------------------------

  #onMessage(msg: NatsJsMessage): void {
    if (this.#handBack) {
      this.#nak(msg, 0, 'requeued')
      return
    }
    const held: Held = { msg, touchedAt: Date.now() }
    if (this.#pending.length > 0 || this.#running.size >= this.#s.batch) {
      this.#pending.push(held)
      return
    }
    this.#begin(held)
  }

  #begin(held: Held): void {
    const s = this.#s
    const msg = held.msg
    const deliveries = msg.info.deliveryCount
    this.#running.set(msg, held)
    if (deliveries > s.maxDeliveries) {
      // It came back more often than it may fail: a message that crashes the process on every delivery.
      this.#deadLetter(held, errors.deliveryLimit(s.stream, msg.seq, deliveries - 1, s.maxDeliveries))
      return
    }
    const wire = wireHeadersOf(msg.headers)
    let body: unknown
    try {
      body = decodeBody(msg.data, findHeader(wire, 'content-type'), s.contentType)
    } catch (err) {
      this.#deadLetter(held, errors.decode(s.stream, msg.seq, err))
      return
    }
    const headers = inboundHeaders(wire, s.headerFilter)
    headers['nats.stream'] = s.stream
    headers['nats.subject'] = msg.subject
    headers['nats.sequence'] = msg.seq
    headers['nats.deliveryCount'] = deliveries
    headers['nats.redelivered'] = deliveries > 1
    headers['nats.msgId'] = findHeader(wire, 'nats-msg-id')
    const ex = this.#host.createExchange(body, headers)
    const r = this.#host.process(ex)
    if (r === undefined) this.#settle(held, ex)
    else
      void r.then(
        () => this.#settle(held, ex),
        (err: unknown) => {
          ex.exception ??= err
          this.#settle(held, ex)
        },
      )
  }

  #settle(held: Held, ex: Exchange): void {
    // Handed back by a forced stop already: nothing more to say to the server.
    if (!this.#running.has(held.msg)) return
    const counters = this.#runtime.counters
    if (ex.exception === undefined) {
      if (this.#respond(held.msg, 'ack')) counters.acked.inc()
    } else if (this.#host.wasAborted(ex)) {
      this.#nak(held.msg, 0, 'requeued')
    } else if (held.msg.info.deliveryCount >= this.#s.maxDeliveries) {
      this.#deadLetter(held, ex.exception)
      return
    } else {
      this.#nak(held.msg, this.#s.nakDelayMs, 'nacked')
    }
    this.#release(held)
  }

  #release(held: Held): void {
    if (!this.#running.delete(held.msg)) return
    if (this.#running.size === 0) this.#idle.wake()
    if (this.#pending.length > 0) this.#pump()
    this.#capacity.wake()
  }

  /** Publishes the message to the dead-letter subject, then acks it; without one, terminates it (logged). */
  #deadLetter(held: Held, cause: unknown): void {
    const s = this.#s
    const msg = held.msg
    const where = { err: cause, route: this.#host.routeId, stream: s.stream, sequence: msg.seq }
    const target = s.deadLetterSubject
    if (target === undefined) {
      if (this.#respond(msg, 'term')) this.#runtime.counters.terminated.inc()
      this.#log.error(
        where,
        `Message ${msg.seq} of stream "${s.stream}" failed ${msg.info.deliveryCount} time(s) and was terminated; the route has no deadLetterSubject, so it will not be delivered again`,
      )
      this.#release(held)
      return
    }
    const headers: Array<readonly [string, string]> = wireHeadersOf(msg.headers).filter(
      ([k]) => k.toLowerCase() !== 'nats-msg-id',
    )
    headers.push(
      ['Dromedary-Dead-Letter-Reason', oneLine(cause)],
      ['Dromedary-Original-Stream', s.stream],
      ['Dromedary-Original-Subject', msg.subject],
      ['Dromedary-Original-Sequence', String(msg.seq)],
      ['Dromedary-Deliveries', String(msg.info.deliveryCount)],
    )
    const publish = async (): Promise<void> => {
      try {
        await this.#runtime
          .connection()
          // The id makes a repeated dead-lettering of the same message (ack lost, crash) a duplicate.
          .publish(target, msg.data, { msgId: `${s.stream}:${msg.seq}`, headers, timeoutMs: 5000 })
      } catch (err) {
        this.#log.error({ ...where, err: errors.deadLetterFailed(target, msg.seq, err) }, oneLine(err))
        if (this.#running.has(msg)) this.#nak(msg, s.nakDelayMs, 'nacked')
        return
      }
      if (!this.#running.has(msg)) return
      if (this.#respond(msg, 'ack')) this.#runtime.counters.dead_lettered.inc()
      this.#log.warn(
        { ...where, deadLetterSubject: target },
        `Message ${msg.seq} of stream "${s.stream}" failed and was dead-lettered to "${target}"`,
      )
    }
    void publish().finally(() => this.#release(held))
  }

  #nak(msg: NatsJsMessage, delayMs: number, outcome: 'nacked' | 'requeued'): void {
    let ok = true
    try {
      if (delayMs > 0) msg.nak(delayMs)
      else msg.nak()
    } catch {
      ok = false
    }
    if (ok) this.#runtime.counters[outcome].inc()
  }

  #respond(msg: NatsJsMessage, how: 'ack' | 'term'): boolean {
    try {
      if (how === 'ack') msg.ack()
      else msg.term()
      return true
    } catch {
      // The connection is closed (forced stop): the server redelivers after ack_wait.
      return false
    }
  }

  /** Tells the route whether intake works (reads or pulls succeed), once per change. */
  #setReady(ready: boolean): void {
    if (this.#ready === ready) return
    this.#ready = ready
    this.#host.setReady(ready)
  }

  #pump(): void {
    if (this.#pumping || this.#handBack) return
    this.#pumping = true
    let started = false
    try {
      while (this.#pending.length > 0 && this.#running.size < this.#s.batch) {
        started = true
        this.#begin(this.#pending.shift()!)
      }
    } finally {
      this.#pumping = false
    }
    if (started) this.#host.notifyPending()
  }

  #handBackPending(): void {
    if (this.#pending.length === 0) return
    const pending = this.#pending
    this.#pending = []
    for (const held of pending) this.#nak(held.msg, 0, 'requeued')
    this.#host.notifyPending()
  }
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/[\r\n]+/g, ' ')
}
