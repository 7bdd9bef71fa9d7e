// rolling-restart: two app processes (fixtures/http-orders.mjs), each with its own HTTP port and both on one
// RabbitMQ queue — `POST /orders` publishes the order, a consumer route in every instance processes it. A
// client spreads orders over both instances (16 concurrent keep-alive requests, Node's http.Agent), retrying an
// order on the other instance after a 503 or a refused connection; like a client-side load balancer it leaves an
// instance alone for the 503's Retry-After, and for a growing backoff after a refused connection. (A client
// that ignores Retry-After and keeps opening connections to an instance that is closing can meet the kernel's
// reset of connections still in the listen backlog at NOW: see docs/http.md.) Under that load each instance in turn is
// restarted: SIGTERM, wait for its exit (0 = graceful), start it again on the same port, wait until it serves
// again. An order counts as sent once a 2xx answer arrived. Holds when every sent order was processed exactly
// once (lost 0, duplicated 0, nothing processed that was not sent), no order failed after its retries, no
// request met a reset ("socket hang up", ECONNRESET, EPIPE) or an unexpected answer, and every stop was
// graceful.
import { Agent } from 'node:http'
import { join } from 'node:path'
import { App } from '../lib/child.mjs'
import { AMQP_URL, declareQueue, deleteTopology, drainQueue, uniqueName } from '../lib/broker.mjs'
import { isReset, send } from '../lib/http-client.mjs'
import { account } from '../lib/ledger.mjs'
import { RUN_DIR } from '../lib/paths.mjs'
import { row } from '../lib/report.mjs'
import { freePort, readLines, sleep, waitFor } from '../lib/util.mjs'

const CONCURRENCY = 16
const ORDER_DEADLINE_MS = 30_000

export default {
  name: 'rolling-restart',
  graceful: true,
  async run({ quick, log }) {
    const rounds = quick ? 1 : 3
    const settleOrders = quick ? 500 : 2000
    const queue = uniqueName('rolling')
    const problems = []
    const instances = []
    const ledgers = []
    const stops = []
    const ports = [await freePort(), await freePort()]
    const agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: CONCURRENCY }))
    const stats = {
      ok: 0,
      okBy: [0, 0],
      retried: 0,
      s503: 0,
      refused: 0,
      resets: 0,
      unexpected: 0,
      failed: 0,
      maxAttempts: 1,
      examples: [],
    }
    const accepted = []
    let generation = 0

    const start = async (i) => {
      const name = `rolling-${i}-g${generation++}`
      const ledger = join(RUN_DIR, `${queue}.${name}`)
      ledgers.push(ledger)
      const app = new App(
        'http-orders.mjs',
        { name, port: ports[i], url: AMQP_URL, queue, ledger, prefetch: 20, workMs: [0, 3] },
        { name },
      )
      instances[i] = app
      await app.next('ready')
    }
    const stop = async (i) => {
      const app = instances[i]
      const t0 = performance.now()
      app.signal('SIGTERM')
      const stopped = await app.next('stopped', 60_000)
      const exit = await app.waitExit(30_000)
      const ms = performance.now() - t0
      stops.push({ i, ms, report: stopped.report, accepted: stopped.accepted })
      if (!stopped.report.graceful || exit.code !== 0)
        problems.push(`instance ${i}: stop not graceful (exit ${exit.code ?? exit.signal})`)
      if (stopped.invalid > 0) problems.push(`instance ${i}: ${stopped.invalid} orders judged invalid`)
      if (stopped.log.error > 0)
        problems.push(`instance ${i}: ${stopped.log.error} errors logged, e.g. ${stopped.notable[0]?.msg}`)
      return stopped
    }

    // The client's view of each instance, like a client-side load balancer: after a 503 an instance is left
    // alone for its Retry-After; after a refused connection, for a backoff that doubles (50 ms … 1 s) until it
    // accepts again.
    const downUntil = [0, 0]
    const backoff = [0, 0]
    const pick = (first) => {
      const now = Date.now()
      if (downUntil[first] <= now) return first
      if (downUntil[1 - first] <= now) return 1 - first
      return downUntil[first] <= downUntil[1 - first] ? first : 1 - first
    }
    // One order: to instance `first` unless it is down, else the other, until a 2xx answer or the deadline.
    const order = async (id, first) => {
      const body = JSON.stringify({ id })
      const deadline = Date.now() + ORDER_DEADLINE_MS
      for (let attempt = 0; ; attempt++) {
        const i = pick(first)
        const wait = downUntil[i] - Date.now()
        if (wait > 0) await sleep(wait)
        const res = await send({
          port: ports[i],
          method: 'POST',
          path: '/orders',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          body,
          agent: agents[i],
        })
        if (res.status !== undefined && res.status >= 200 && res.status < 300) {
          backoff[i] = 0
          stats.ok++
          stats.okBy[i]++
          accepted.push(id)
          if (attempt > 0) stats.retried++
          stats.maxAttempts = Math.max(stats.maxAttempts, attempt + 1)
          return
        }
        if (res.status === 503) {
          stats.s503++
          const retryAfter = Number(res.headers['retry-after'])
          downUntil[i] = Math.max(downUntil[i], Date.now() + (retryAfter >= 0 ? retryAfter : 1) * 1000)
        } else if (res.error === 'ECONNREFUSED') {
          stats.refused++
          backoff[i] = Math.min(Math.max(50, backoff[i] * 2), 1000)
          downUntil[i] = Math.max(downUntil[i], Date.now() + backoff[i])
        } else {
          const what = res.status !== undefined ? `status ${res.status}` : res.error
          if (res.error !== undefined && isReset(res.error)) stats.resets++
          else stats.unexpected++
          if (stats.examples.length < 5) stats.examples.push(`${id} on instance ${i}: ${what}`)
          await sleep(50)
        }
        if (Date.now() >= deadline) {
          stats.failed++
          return
        }
      }
    }

    let loadOn = true
    let seq = 0
    const client = async () => {
      while (loadOn) {
        const n = seq++
        await order(`o-${n}`, n % 2)
      }
    }

    let loops = []
    try {
      await declareQueue(queue)
      await start(0)
      await start(1)
      loops = Array.from({ length: CONCURRENCY }, client)
      const waitServed = async (i, n, what) => {
        const base = stats.okBy[i]
        if (!(await waitFor(() => stats.okBy[i] >= base + n, { timeoutMs: 60_000, intervalMs: 20 })))
          throw new Error(`instance ${i} did not serve ${n} orders ${what} within 60 s`)
      }
      await waitServed(0, settleOrders, 'at the start')
      await waitServed(1, settleOrders, 'at the start')
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < 2; i++) {
          const before = { s503: stats.s503, refused: stats.refused }
          const stopped = await stop(i)
          await start(i)
          log(
            `  round ${round + 1}/${rounds}, instance ${i}: stopped in ${stops.at(-1).ms.toFixed(0)} ms (in flight at stop ${stopped.report.routes.map((r) => `${r.id} ${r.inflight}`).join(', ')}), ${stats.s503 - before.s503} × 503 and ${stats.refused - before.refused} refused meanwhile, restarted`,
          )
          await waitServed(i, settleOrders, 'after its restart')
        }
      }
      loadOn = false
      await Promise.all(loops)
      // Every accepted order is processed by one of the instances (the queue empties), then both stop.
      const all = new Set(accepted)
      const processedAll = await waitFor(
        () => {
          const seen = new Set(ledgers.flatMap(readLines))
          for (const id of all) if (!seen.has(id)) return false
          return true
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      )
      if (!processedAll) problems.push('not every accepted order was processed within 60 s')
      await stop(0)
      await stop(1)
      const remaining = await drainQueue(queue)
      const a = account({ sent: accepted, processed: ledgers.flatMap(readLines), remaining })
      if (a.unknown > 0) problems.push(`${a.unknown} ids processed that no client had sent`)
      if (stats.failed > 0) problems.push(`${stats.failed} orders failed after retrying for 30 s`)
      if (stats.resets > 0) problems.push(`${stats.resets} requests reset`)
      if (stats.unexpected > 0) problems.push(`${stats.unexpected} unexpected answers`)
      problems.push(...stats.examples.slice(0, 3))
      if (a.lostIds.length > 0) problems.push(`lost e.g. ${a.lostIds.join(',')}`)
      if (a.duplicatedIds.length > 0) problems.push(`duplicated e.g. ${a.duplicatedIds.join(',')}`)
      const stopMs = stops.slice(0, rounds * 2).map((s) => (s.ms / 1000).toFixed(1))
      log(
        `  ${a.sent} orders accepted (${stats.retried} after a retry, at most ${stats.maxAttempts} attempts), ${stats.s503} × 503, ${stats.refused} refused, ${stats.resets} resets, ${stats.unexpected} unexpected, ${stats.failed} failed; processed ${a.processed}, lost ${a.lost}, duplicated ${a.duplicated}`,
      )
      return [
        row({
          scenario: 'rolling-restart',
          graceful: true,
          trials: rounds,
          sent: a.sent,
          processed: a.processed,
          lost: a.lost,
          duplicated: a.duplicated,
          passed:
            problems.length === 0 &&
            a.lost === 0 &&
            a.duplicated === 0 &&
            a.processed === a.sent &&
            stats.failed === 0 &&
            stats.resets === 0 &&
            stats.unexpected === 0,
          notes: [
            `2 instances × ${rounds} restart round(s) under ${CONCURRENCY} concurrent clients; stops took ${stopMs.join(', ')} s`,
            `${stats.retried} orders retried (${stats.s503} × 503, ${stats.refused} refused), ${stats.failed} failed, ${stats.resets} resets`,
            ...problems.slice(0, 4),
          ].join('; '),
        }),
      ]
    } finally {
      loadOn = false
      await Promise.all(loops)
      for (const agent of agents) agent.destroy()
      for (const app of instances) if (app?.running) await app.kill()
      await deleteTopology({ queues: [queue] })
    }
  },
}
