// http-slowloris: many slow clients against an HTTP app process (fixtures/http-app.mjs with short timeouts:
// requestTimeoutMs 2000, headersTimeoutMs 1000). A third trickle a request body a byte at a time, a third trickle
// header lines, a third connect and send nothing; each keeps going (a byte every 400 ms) until the server closes
// its connection. Meanwhile other clients call GET /health in a loop, each on a new connection, and the runner
// measures their latency, before the attack and during it. Holds when every slow client that sent a request line
// got 408 (problem+json for a body) and every slow connection was closed by the server within its timeout plus 1.5 s, no
// other client saw an error or a status other than 200, their p99 latency under attack stayed below 500 ms, and
// the app stopped gracefully afterwards.
import { connect } from 'node:net'
import { App } from '../lib/child.mjs'
import { send } from '../lib/http-client.mjs'
import { row } from '../lib/report.mjs'

const REQUEST_TIMEOUT_MS = 2000
const HEADERS_TIMEOUT_MS = 1000
const DRIP_MS = 400
/** A slow connection must be closed within its timeout plus this (Node checks timeouts every 250 ms here). */
const SLACK_MS = 1500
const P99_LIMIT_MS = 500
const GOOD_CLIENTS = 4

const KINDS = {
  body: {
    head: `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
    drip: ' ',
    limitMs: REQUEST_TIMEOUT_MS,
    answers: /^HTTP\/1\.1 408 [\s\S]*content-type: application\/problem\+json/i,
  },
  headers: {
    head: 'GET /health HTTP/1.1\r\n',
    drip: 'X-Slow: 1\r\n',
    limitMs: HEADERS_TIMEOUT_MS,
    // Without a body: the packet Node's parser failed on is a header line, and an answer to what may be a HEAD
    // request carries none.
    answers: /^HTTP\/1\.1 408 /,
  },
  silent: { head: '', drip: '', limitMs: HEADERS_TIMEOUT_MS, answers: undefined },
}

export default {
  name: 'http-slowloris',
  graceful: true,
  async run({ quick, log }) {
    const trials = quick ? 1 : 2
    const slowPerKind = quick ? 40 : 80
    const total = { slow: 0, answered408: 0, closedInTime: 0, good: 0, goodOk: 0 }
    const problems = []
    const lat = { before: [], during: [] }
    let maxClosedMs = 0
    for (let t = 0; t < trials; t++) {
      const c = await trial({ t, slowPerKind, problems })
      for (const k of Object.keys(total)) total[k] += c[k]
      lat.before.push(...c.before)
      lat.during.push(...c.during)
      maxClosedMs = Math.max(maxClosedMs, c.maxClosedMs)
      log(
        `  trial ${t + 1}/${trials}: ${c.slow} slow clients: 408 ${c.answered408}, closed in time ${c.closedInTime} (slowest ${c.maxClosedMs} ms); others: ${c.goodOk}/${c.good} 200, latency p50/p99 ${pct(c.before, 50)}/${pct(c.before, 99)} ms before, ${pct(c.during, 50)}/${pct(c.during, 99)} ms during; stop ${c.stopMs} ms`,
      )
    }
    const p99 = pct(lat.during, 99)
    if (!(Number(p99) < P99_LIMIT_MS)) problems.push(`p99 latency of other clients ${p99} ms under attack`)
    const expected408 = (total.slow * 2) / 3
    const passed =
      problems.length === 0 &&
      total.closedInTime === total.slow &&
      total.answered408 === expected408 &&
      total.goodOk === total.good
    return [
      row({
        scenario: 'http-slowloris',
        graceful: true,
        trials,
        sent: total.slow,
        processed: total.closedInTime,
        lost: total.slow - total.closedInTime,
        duplicated: null,
        passed,
        notes: [
          `${total.slow} slow clients (body, headers, silent): 408 ${total.answered408}, closed ≤ ${maxClosedMs} ms (timeouts ${REQUEST_TIMEOUT_MS}/${HEADERS_TIMEOUT_MS} ms)`,
          `others ${total.goodOk}/${total.good} 200, p50/p99 ${pct(lat.before, 50)}/${pct(lat.before, 99)} ms before, ${pct(lat.during, 50)}/${p99} ms during`,
          ...problems.slice(0, 4),
        ].join('; '),
      }),
    ]
  },
}

async function trial({ t, slowPerKind, problems }) {
  const app = new App(
    'http-app.mjs',
    { name: `slowloris-${t}`, requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS },
    { name: `slowloris-${t}` },
  )
  try {
    const { address } = await app.next('ready')
    const port = address.port
    const before = await measure(port, () => false, 200)
    let attacking = true
    const during = measure(port, () => !attacking, Number.POSITIVE_INFINITY)
    const slow = []
    for (const [kind, spec] of Object.entries(KINDS))
      for (let i = 0; i < slowPerKind; i++) slow.push(slowClient(port, kind, spec))
    const results = await Promise.all(slow)
    attacking = false
    const good = await during
    let answered408 = 0
    let closedInTime = 0
    let maxClosedMs = 0
    for (const r of results) {
      const spec = KINDS[r.kind]
      if (spec.answers !== undefined) {
        if (spec.answers.test(r.received)) answered408++
        else problems.push(`trial ${t}: a ${r.kind} client got ${JSON.stringify(r.received.slice(0, 40))}`)
      }
      if (r.closedMs !== undefined && r.closedMs <= spec.limitMs + SLACK_MS) closedInTime++
      else
        problems.push(`trial ${t}: a ${r.kind} client was still open after ${r.closedMs ?? 'the give-up'} ms`)
      maxClosedMs = Math.max(maxClosedMs, r.closedMs ?? Number.POSITIVE_INFINITY)
    }
    for (const g of [...before.results, ...good.results])
      if (g !== 200) problems.push(`trial ${t}: another client got ${g}`)
    const t0 = performance.now()
    app.signal('SIGTERM')
    const stopped = await app.next('stopped', 60_000)
    const exit = await app.waitExit(30_000)
    if (!stopped.report.graceful || exit.code !== 0)
      problems.push(`trial ${t}: stop not graceful (exit ${exit.code ?? exit.signal})`)
    if (stopped.log.error > 0) problems.push(`trial ${t}: ${stopped.log.error} errors logged`)
    const all = [...before.results, ...good.results]
    return {
      slow: results.length,
      answered408,
      closedInTime,
      maxClosedMs,
      good: all.length,
      goodOk: all.filter((s) => s === 200).length,
      before: before.latencies,
      during: good.latencies,
      stopMs: (performance.now() - t0).toFixed(0),
    }
  } finally {
    if (app.running) await app.kill()
  }
}

/**
 * A slow client: writes `head`, then a byte of `drip` every DRIP_MS, until the server closes the connection (or
 * 10 × its timeout, when it gives up). Resolves with what the server sent and when it closed, in ms from connect.
 */
function slowClient(port, kind, spec) {
  return new Promise((resolve) => {
    let received = ''
    let i = 0
    let t0 = 0
    const socket = connect({ port, host: '127.0.0.1' })
    const finish = (closedMs) => {
      clearInterval(drip)
      clearTimeout(giveUp)
      resolve({ kind, received, closedMs })
    }
    const drip = setInterval(() => {
      if (spec.drip !== '' && socket.writable) socket.write(spec.drip[i++ % spec.drip.length])
    }, DRIP_MS)
    const giveUp = setTimeout(() => {
      socket.destroy()
      finish(undefined)
    }, spec.limitMs * 10)
    socket.on('connect', () => {
      t0 = performance.now()
      if (spec.head !== '') socket.write(spec.head)
    })
    socket.on('data', (c) => (received += c.toString('latin1')))
    socket.on('end', () => socket.end())
    socket.on('error', () => undefined)
    socket.on('close', () => finish(Math.round(performance.now() - t0)))
  })
}

/** GOOD_CLIENTS loops of GET /health, each request on a new connection, until `done()` or `max` requests each. */
async function measure(port, done, max) {
  const latencies = []
  const results = []
  const loop = async () => {
    for (let n = 0; n < max && !done(); n++) {
      const t0 = performance.now()
      const a = await send({ port, path: '/health', timeoutMs: 10_000 })
      latencies.push(performance.now() - t0)
      results.push(a.status ?? a.error)
    }
  }
  await Promise.all(Array.from({ length: GOOD_CLIENTS }, loop))
  return { latencies, results }
}

function pct(values, p) {
  if (values.length === 0) return '—'
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1)
}
