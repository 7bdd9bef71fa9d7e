import type {
  Consumer,
  ConsumerHost,
  Exchange,
  HeaderFilter,
  Logger,
  ShutdownRunningTask,
  StopOptions,
} from '@dromedary/core'
import type { RedisConnection, RedisReader, StreamEntry } from './redis-connection.js'
import { decodeEntry, type RedisContentType } from './redis-fields.js'
import type { StreamCounters } from './redis-metrics.js'
import { SlotSet } from './held-set.js'
import { StreamOps } from './redis-stream-ops.js'
import { errors } from './errors.js'
import { untilAborted, Waiter } from '@dromedary/core'

/** The validated settings of one `redis:stream:KEY` consumer. @internal */
export interface RedisConsumerSettings {
  readonly stream: string
  readonly group: string
  readonly consumer: string
  readonly batch: number
  readonly blockMs: number
  readonly minIdleMs: number
  readonly claimIntervalMs: number
  readonly maxDeliveries: number
  readonly deadLetterStream: string | undefined
  readonly startId: string
  readonly createGroup: boolean
  readonly contentType: RedisContentType
  readonly headerFilter: HeaderFilter | undefined
}

/** What a consumer needs from its component. @internal */
export interface RedisConsumerRuntime {
  connection(): RedisConnection
  readonly counters: StreamCounters
}

type State = 'stopped' | 'starting' | 'consuming' | 'suspended' | 'draining'

/** An entry this consumer holds (read or claimed): pending, or running. */
interface Held extends StreamEntry {
  deliveries: number
  /** When it was read, claimed or last touched (idle time reset), ms. */
  touchedAt: number
  /** Its index in the running set, -1 while pending or after it was released or handed back. */
  slot: number
}

const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 5_000

/**
 * Consumes a Redis stream through a consumer group with at most `batch` entries held at once (running + read but
 * not started). New entries come from `XREADGROUP … BLOCK` on a dedicated connection; entries idle for
 * `minIdleMs` in the group's pending list (a dead consumer's, or failed ones) are taken over with `XAUTOCLAIM`
 * every `claimIntervalMs`. A completed exchange is acked (`XACK`, batched); a failed one stays pending and is
 * claimed again after `minIdleMs` until its delivery count reaches `maxDeliveries`, then it is copied to
 * `deadLetterStream` and acked (or acked with an error log). Entries held for a third of `minIdleMs` have their
 * idle time reset, so no other consumer claims live work. Redis has no nack: what shutdown hands back stays
 * pending, made idle at once so the next consumer claims it without waiting.
 * @internal
 */
export class RedisConsumer implements Consumer {
  readonly handsBack = true
  readonly #host: ConsumerHost
  readonly #runtime: RedisConsumerRuntime
  readonly #s: RedisConsumerSettings
  readonly #log: Logger
  readonly #running = new SlotSet<Held>()
  readonly #idle = new Waiter()
  readonly #capacity = new Waiter()
  readonly #flushes = new Set<Promise<unknown>>()
  #pending: Held[] = []
  #acks: string[] = []
  #ackScheduled = false
  #state: State = 'stopped'
  #handBack = false
  #ops: StreamOps | undefined = undefined
  #reader: RedisReader | undefined = undefined
  #reading = false
  #loop: Promise<void> | undefined = undefined
  #claiming: Promise<void> | undefined = undefined
  #timers: NodeJS.Timeout[] = []
  #pumping = false
  #ready = true

  constructor(host: ConsumerHost, runtime: RedisConsumerRuntime, settings: RedisConsumerSettings) {
    this.#host = host
    this.#runtime = runtime
    this.#s = settings
    this.#log = host.logger
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') return
    this.#state = 'starting'
    this.#handBack = false
    const s = this.#s
    try {
      const connection = this.#runtime.connection()
      this.#ops = new StreamOps(connection, s.stream, s.group, s.consumer)
      await this.#ops.ensureGroup(s.startId, s.createGroup)
      this.#reader = await connection.openReader()
    } catch (err) {
      this.#state = 'stopped'
      throw err
    }
    this.#state = 'consuming'
    const claim = setInterval(() => this.#claimSoon(), s.claimIntervalMs)
    const touch = setInterval(() => this.#touch(), Math.max(10, Math.floor(s.minIdleMs / 3)))
    claim.unref()
    touch.unref()
    this.#timers = [claim, touch]
    // What a dead consumer (or this one's previous run) left behind is taken over first.
    this.#claimSoon()
    this.#loop = this.#readLoop()
  }

  /** Stops reading; entries already read still run. */
  async suspend(): Promise<void> {
    if (this.#state !== 'consuming') return
    this.#state = 'suspended'
    await this.#endReads(undefined)
  }

  async resume(): Promise<void> {
    if (this.#state !== 'suspended' && this.#state !== 'draining') return
    await this.#loop
    this.#state = 'consuming'
    this.#handBack = false
    this.#loop = this.#readLoop()
  }

  async prepareShutdown(options: StopOptions & { readonly task: ShutdownRunningTask }): Promise<void> {
    if (this.#state === 'stopped') return
    this.#state = 'draining'
    this.#handBack ||= options.forced || options.task === 'completeCurrentTaskOnly'
    await this.#endReads(options.forced ? AbortSignal.abort() : options.signal)
    if (this.#handBack) await untilAborted(this.#handBackPending(), options.signal)
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
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    let finished = !options.forced
    if (finished)
      finished = await untilAborted(
        this.#idle.until(() => this.#running.size === 0),
        options.signal,
      )
    if (!finished) {
      // Forced, or the deadline passed: everything unfinished is handed back now; what those exchanges do later
      // is not acknowledged.
      this.#handBack = true
      const running = this.#running.takeAll()
      this.#capacity.wake()
      const handing = Promise.all([this.#handBackPending(), this.#handBackHeld(running, false)])
      await untilAborted(handing, options.signal)
    }
    this.#flushAcks()
    await untilAborted(Promise.all(this.#flushes), options.signal)
    await this.#endReads(options.forced ? AbortSignal.abort() : options.signal)
    await this.#reader?.close(options.forced ? AbortSignal.abort() : options.signal)
    this.#reader = undefined
  }

  // --- reading -------------------------------------------------------------------------------------

  async #readLoop(): Promise<void> {
    const s = this.#s
    const threshold = Math.max(1, Math.ceil(s.batch / 4))
    let retryMs = RETRY_MIN_MS
    while (this.#state === 'consuming') {
      const free = this.#free()
      if (free < threshold) {
        await this.#capacity.until(() => this.#state !== 'consuming' || this.#free() >= threshold)
        continue
      }
      let entries: Held[]
      this.#reading = true
      try {
        entries = await this.#reader!.readGroup(s.stream, s.group, s.consumer, free, s.blockMs, newHeld)
        retryMs = RETRY_MIN_MS
        this.#setReady(true)
      } catch (err) {
        if (this.#state !== 'consuming') break
        this.#setReady(false)
        this.#log.warn(
          { err, route: this.#host.routeId, stream: s.stream, group: s.group },
          `Reading stream "${s.stream}" (group "${s.group}") failed; retrying in ${retryMs} ms`,
        )
        await this.#capacity.until(() => this.#state !== 'consuming', retryMs)
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2)
        continue
      } finally {
        this.#reading = false
      }
      const now = Date.now()
      for (const held of entries) {
        held.touchedAt = now
        this.#onEntry(held)
      }
    }
  }

  /** Ends the blocked read (CLIENT UNBLOCK: it returns what it has) and waits for the loop and any claim. */
  async #endReads(signal: AbortSignal | undefined): Promise<void> {
    this.#capacity.wake()
    if (this.#reading) {
      const unblocked = this.#reader?.unblock().catch(() => undefined)
      await untilAborted(unblocked, signal)
    }
    if (!(await untilAborted(Promise.all([this.#loop, this.#claiming]), signal))) {
      // The server does not answer: the entries of a read in transit stay pending and are claimed later.
      await this.#reader?.close(AbortSignal.abort())
    }
  }

  #free(): number {
    return this.#s.batch - this.#running.size - this.#pending.length
  }

  #claimSoon(): void {
    if (this.#claiming !== undefined || this.#state !== 'consuming') return
    this.#claiming = this.#claim().finally(() => (this.#claiming = undefined))
  }

  /** XAUTOCLAIM of entries idle for minIdleMs, as many as there is room for. */
  async #claim(): Promise<void> {
    const s = this.#s
    const ops = this.#ops!
    let cursor = '0-0'
    try {
      do {
        const free = this.#free()
        if (free <= 0 || this.#state !== 'consuming') return
        const { next, entries, deleted } = await ops.claim(s.minIdleMs, cursor, free)
        cursor = next
        if (deleted.length > 0) {
          this.#runtime.counters.trimmed.inc(deleted.length)
          this.#log.warn(
            { route: this.#host.routeId, stream: s.stream, ids: deleted.slice(0, 10) },
            `${deleted.length} pending entries of stream "${s.stream}" were trimmed before they were processed; they are gone (raise maxLen, or process faster)`,
          )
        }
        if (entries.length === 0) continue
        const counts = await ops.deliveryCounts(entries.map((e) => e.id))
        const now = Date.now()
        // An entry this consumer still holds comes back when its touch was lost: it runs here already, and
        // that run acks it; running it twice would ack and count it twice.
        const mine = new Set<string>()
        for (const h of this.#running.values()) mine.add(h.id)
        for (const h of this.#pending) mine.add(h.id)
        for (const entry of entries) {
          if (mine.has(entry.id)) continue
          const held = newHeld(entry.id, entry.fields)
          held.deliveries = counts.get(entry.id) ?? 1
          held.touchedAt = now
          this.#onEntry(held)
        }
      } while (cursor !== '0-0')
    } catch (err) {
      this.#log.warn(
        { err, route: this.#host.routeId, stream: s.stream, group: s.group },
        `Claiming idle entries of stream "${s.stream}" failed; trying again in ${s.claimIntervalMs} ms`,
      )
    }
  }

  /** Resets the idle time of entries held for a third of minIdleMs, so no other consumer claims them. */
  #touch(): void {
    const every = Math.floor(this.#s.minIdleMs / 3)
    const now = Date.now()
    const ids: string[] = []
    for (const held of this.#running.values()) if (now - held.touchedAt >= every) ids.push(touched(held, now))
    for (const held of this.#pending) if (now - held.touchedAt >= every) ids.push(touched(held, now))
    // Touched a third of minIdleMs ago at the latest; half that leaves room for clock and timer drift.
    if (ids.length > 0) void this.#ops!.touch(ids, Math.floor(every / 2)).catch(() => undefined)
  }

  // --- entries (hot path) --------------------------------------------------------------------------

  #onEntry(held: Held): void {
    if (this.#handBack) {
      this.#track(this.#handBackHeld([held], true).catch(() => undefined))
      return
    }
    if (this.#pending.length > 0 || this.#running.size >= this.#s.batch) {
      this.#pending.push(held)
      return
    }
    this.#begin(held)
  }

  #begin(held: Held): void {
    const s = this.#s
    const id = held.id
    this.#running.add(held)
    if (held.deliveries > s.maxDeliveries) {
      // It came back more often than it may fail: an entry that crashes the process on every delivery.
      this.#deadLetter(held, errors.deliveryLimit(s.stream, id, held.deliveries - 1, s.maxDeliveries))
      return
    }
    // The transport's own headers first: every exchange of the stream starts with the same shape.
    const headers: Record<string, unknown> = {
      'redis.stream': s.stream,
      'redis.id': id,
      'redis.group': s.group,
      'redis.deliveryCount': held.deliveries,
    }
    let body
    try {
      body = decodeEntry(held.fields, s.contentType, s.headerFilter, headers)
    } catch (err) {
      this.#deadLetter(held, errors.decode(s.stream, id, err))
      return
    }
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
    // Handed back by a forced stop already.
    if (!this.#running.has(held)) return
    if (ex.exception === undefined) {
      this.#acks.push(held.id)
      if (!this.#ackScheduled) {
        this.#ackScheduled = true
        // Acks of one burst of completions leave in one XACK; a microtask (not a later turn) keeps the window in
        // which a crash redelivers processed entries small.
        queueMicrotask(() => this.#flushAcks())
      }
    } else if (this.#host.wasAborted(ex)) {
      this.#track(this.#handBackHeld([held], false).catch(() => undefined))
    } else if (held.deliveries >= this.#s.maxDeliveries) {
      this.#deadLetter(held, ex.exception)
      return
    } else {
      // Stays pending: claimed again (by any consumer) once idle for minIdleMs.
      this.#runtime.counters.retried.inc()
    }
    this.#release(held)
  }

  #release(held: Held): void {
    if (!this.#running.delete(held)) return
    if (this.#running.size === 0) this.#idle.wake()
    if (this.#pending.length > 0) this.#pump()
    this.#capacity.wake()
  }

  #flushAcks(): void {
    this.#ackScheduled = false
    if (this.#acks.length === 0) return
    const ids = this.#acks
    this.#acks = []
    const counters = this.#runtime.counters
    const p = this.#ops!.ack(ids).then(
      () => counters.acked.inc(ids.length),
      (err: unknown) =>
        this.#log.warn(
          { err, route: this.#host.routeId, stream: this.#s.stream, ids: ids.slice(0, 10) },
          `XACK of ${ids.length} entries failed; they stay pending and will be processed again`,
        ),
    )
    this.#track(p)
  }

  /** Remembers a command under way (ack, hand-back, dead letter), so a graceful stop waits for its reply. */
  #track(p: Promise<unknown>): void {
    this.#flushes.add(p)
    void p.finally(() => this.#flushes.delete(p))
  }

  /** Copies the entry to the dead-letter stream and acks it; without one, acks it with an error log. */
  #deadLetter(held: Held, cause: unknown): void {
    const s = this.#s
    const where = { err: cause, route: this.#host.routeId, stream: s.stream, id: held.id }
    const target = s.deadLetterStream
    const reason = (cause instanceof Error ? cause.message : String(cause)).replace(/[\r\n]+/g, ' ')
    const run = async (): Promise<void> => {
      try {
        if (target === undefined) await this.#ops!.ack([held.id])
        else await this.#ops!.deadLetter(target, held, reason, held.deliveries)
      } catch (err) {
        this.#log.error({ ...where, err: errors.deadLetterFailed(target ?? '(none)', held.id, err) }, reason)
        return
      }
      if (target === undefined) {
        this.#runtime.counters.discarded.inc()
        this.#log.error(
          where,
          `Entry ${held.id} of stream "${s.stream}" failed ${held.deliveries} time(s) and was dropped (acked); the route has no deadLetterStream`,
        )
      } else {
        this.#runtime.counters.dead_lettered.inc()
        this.#log.warn(
          { ...where, deadLetterStream: target },
          `Entry ${held.id} of stream "${s.stream}" failed and was dead-lettered to "${target}"`,
        )
      }
    }
    const p = run()
    this.#flushes.add(p)
    void p.finally(() => {
      this.#flushes.delete(p)
      this.#release(held)
    })
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

  async #handBackPending(): Promise<void> {
    if (this.#pending.length === 0) return
    const pending = this.#pending
    this.#pending = []
    this.#host.notifyPending()
    await this.#handBackHeld(pending, true).catch((err: unknown) =>
      this.#log.warn(
        { err, route: this.#host.routeId, stream: this.#s.stream },
        `Could not mark ${pending.length} entries as handed back; they stay pending and are claimed after minIdleMs`,
      ),
    )
  }

  /**
   * Hands entries back: pending and idle at once. Entries never started (`notStarted`) get their delivery count
   * back, so a shutdown does not count as a delivery.
   */
  async #handBackHeld(held: readonly Held[], notStarted: boolean): Promise<void> {
    if (held.length === 0) return
    const ops = this.#ops!
    if (!notStarted) await ops.handBack(held.map((h) => h.id))
    else {
      const byCount = new Map<number, string[]>()
      for (const h of held) {
        const ids = byCount.get(h.deliveries - 1) ?? []
        ids.push(h.id)
        byCount.set(h.deliveries - 1, ids)
      }
      await Promise.all([...byCount].map(([count, ids]) => ops.handBack(ids, count)))
    }
    this.#runtime.counters.handed_back.inc(held.length)
  }
}

function newHeld(id: string, fields: readonly string[]): Held {
  return { id, fields, deliveries: 1, touchedAt: 0, slot: -1 }
}

function touched(held: Held, now: number): string {
  held.touchedAt = now
  return held.id
}
