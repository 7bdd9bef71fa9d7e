import { createContext, type IntegrationContext } from '@dromedary/core'
import { httpComponent } from '@dromedary/http'
import { LeakyBucket, type LeakyBucketOptions } from './leaky-bucket.js'

/** Settings of the shaper app, read from the environment by `main.ts`. */
export interface ShaperAppOptions {
  /** Requests the built-in traffic generator sends (one every `trafficPeriodMs`). @default 30 */
  traffic?: number
  /** @default 50 */
  trafficPeriodMs?: number
  /** How long relaying one request takes a relay worker. @default 100 */
  relayMs?: number
  /** Relay workers (`workerGroups.relay.workers`). @default 4 */
  relayWorkers?: number
  /** The per-caller leaky bucket. */
  bucket?: LeakyBucketOptions
  /** When set, `POST /calls` on this port feeds the shaper too, and the app runs until signalled. */
  port?: number | undefined
}

/** A call setup request, as the generator or `POST /calls` produces it. */
export interface CallRequest {
  n: number
  from: string
  to: string
}

/** One accounting record, sent to the `accounting` worker group as task data. */
interface CallRecord {
  from: string
  to: string
  waitedMs: number
}

interface CallerStats {
  requests: number
  relayed: number
  rejected: number
  maxWaitMs: number
  totalWaitMs: number
}

const DELAY = 'shaper.delayMs'

// Who calls on which tick of the generator: alice floods, bob is steady, carol calls twice.
function caller(n: number): { from: string; to: string } | undefined {
  if (n % 5 === 0) return { from: 'bob', to: 'alice' }
  if (n === 11 || n === 12) return { from: 'carol', to: 'bob' }
  return { from: 'alice', to: 'carol' }
}

/**
 * Seed 003's request shaper: each request asks a per-caller leaky bucket for a delay, sleeps that long
 * without blocking anything (`async_ms_sleep`), then is relayed by a bounded worker group
 * (`async_task_group_route`), which hands an accounting record to another group (`async_task_group_data`)
 * and emits a type-key-value event (`async_tkv_emit`) logged by the `event:tkv` route.
 */
export function createShaperApp(options: ShaperAppOptions = {}): {
  ctx: IntegrationContext
  summary: () => string[]
} {
  const traffic = options.traffic ?? 30
  const bucket = new LeakyBucket(options.bucket)
  const stats = new Map<string, CallerStats>()
  const statsOf = (from: string): CallerStats => {
    let s = stats.get(from)
    if (s === undefined)
      stats.set(from, (s = { requests: 0, relayed: 0, rejected: 0, maxWaitMs: 0, totalWaitMs: 0 }))
    return s
  }
  const serve = options.port !== undefined
  let seq = 0
  let generated = 0

  const ctx = createContext({
    name: 'shaper',
    workerGroups: {
      relay: { workers: options.relayWorkers ?? 4, queueSize: 1000 },
      accounting: { workers: 1 },
    },
  })
  if (options.port !== undefined)
    ctx.addComponent('http', httpComponent({ port: options.port, host: '127.0.0.1' }))

  void ctx.addRoutes((r) => {
    // Traffic generator: one call request per tick.
    r.from(`timer:traffic?period=${options.trafficPeriodMs ?? 50}&repeatCount=${traffic}`)
      .routeId('traffic')
      .startupOrder(30)
      .setBody((): CallRequest => ({ n: ++seq, ...caller(++generated)! }))
      .to('seda:calls')
      .process(() => {
        // Without an HTTP intake the run is a demo: once the last call is generated, shut down gracefully.
        // Shaped calls still sleeping are in flight, so the drain waits for them (watch the progress lines).
        if (generated === traffic && !serve) setImmediate(() => void ctx.stop())
      })

    if (serve)
      r.from<unknown>('http:/calls?method=POST')
        .routeId('intake')
        .startupOrder(31)
        .transform((ex): CallRequest => {
          const b = (ex.message.body ?? {}) as Partial<CallRequest>
          return {
            n: ++seq,
            from: String(b.from ?? 'anonymous'),
            to: String(b.to ?? 'nobody'),
          }
        })
        .to('seda:calls')
        .setHeader('http.status', 202)
        .setBody((ex) => ({ queued: ex.message.body.n }))

    // route[REQUESTSHAPER]: ask the bucket, reject or sleep the per-caller delay, then relay on a worker.
    r.from<CallRequest>('seda:calls?concurrentConsumers=100')
      .routeId('shaper')
      .startupOrder(20)
      .shutdownRunningTask('completeAllTasks')
      .process((ex) => {
        const { from } = ex.message.body
        statsOf(from).requests++
        const a = bucket.add(from, Date.now())
        ex.message.headers[DELAY] = a.admitted ? a.delayMs : -1
      })
      .choice((c) =>
        c.when(
          (ex) => ex.message.headers[DELAY] === -1,
          (b) =>
            b
              .process((ex) => {
                statsOf(ex.message.body.from).rejected++
              })
              .emitEvent('8001', 'rejected', (ex) => `caller='${ex.message.body.from}'`),
        ),
      )
      .filter((ex) => ex.message.headers[DELAY] !== -1)
      .delay((ex) => ex.message.headers[DELAY] as number)
      .asyncTask('direct:relay', { group: 'relay' })

    // route[RELAY], run by one of the relay workers.
    r.from<CallRequest>('direct:relay')
      .routeId('relay')
      .startupOrder(10)
      .delay(options.relayMs ?? 100)
      .asyncTaskData(
        'direct:accounting',
        (ex): CallRecord => ({
          from: ex.message.body.from,
          to: ex.message.body.to,
          waitedMs: ex.message.headers[DELAY] as number,
        }),
        { group: 'accounting' },
      )
      .emitEvent('8000', 'call', (ex) => `caller='${ex.message.body.from}';callee='${ex.message.body.to}'`)
      .log(
        (ex) =>
          `Relayed call #${ex.message.body.n} ${ex.message.body.from} -> ${ex.message.body.to} after a ${String(ex.message.headers[DELAY])} ms shaping delay`,
      )

    // route[ACCOUNTING]: gets the record as its body; the relayed call did not wait for it.
    r.from<CallRecord>('direct:accounting')
      .routeId('accounting')
      .startupOrder(11)
      .process((ex) => {
        const s = statsOf(ex.message.body.from)
        s.relayed++
        s.totalWaitMs += ex.message.body.waitedMs
        s.maxWaitMs = Math.max(s.maxWaitMs, ex.message.body.waitedMs)
      })

    // event_route[core:tkv]
    r.from('event:tkv')
      .routeId('tkv')
      .startupOrder(12)
      .log(
        (ex) =>
          `tkv event ${String(ex.message.headers['tkv.type'])} / ${String(ex.message.headers['tkv.key'])} / ${String(ex.message.body)}`,
      )
  })

  const summary = (): string[] =>
    [...stats].map(
      ([from, s]) =>
        `Caller ${from}: ${s.requests} requests, ${s.relayed} relayed, ${s.rejected} rejected, wait avg ${s.relayed === 0 ? 0 : Math.round(s.totalWaitMs / s.relayed)} ms / max ${s.maxWaitMs} ms`,
    )
  return { ctx, summary }
}
