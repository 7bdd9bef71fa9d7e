// http-drain-under-load: an HTTP app process (fixtures/http-app.mjs, GET /work takes 20 ms) under autocannon
// load from the runner (50 keep-alive connections), SIGTERM at a random moment mid-run. One long request
// (GET /hold) is in flight at the SIGTERM and is released once a client has met a 503, so every trial covers
// both the 503s of the drain and the completion of in-flight work. At shutdown NOW the app waits until the
// runner has stopped sending and has every answer, the way a load balancer stops routing to an instance that
// is going away (readiness down). Holds when every request sent was answered 2xx or 503 (none reset, no
// error, no timeout, no other status), the server completed exactly the requests answered 2xx, the held
// request got its 200, and the stop was graceful.
//
// autocannon writes its next request on a connection right after an answer that said `Connection: close`
// (a compliant client — undici, browsers, Node's agent — opens a new connection instead); as in
// packages/http/test/http-load.test.ts its clients are patched to honour it, and to stop connecting once
// halted.
import autocannon from 'autocannon'
import { App } from '../lib/child.mjs'
import { send } from '../lib/http-client.mjs'
import { row } from '../lib/report.mjs'
import { randomInt, waitFor } from '../lib/util.mjs'

const CONNECTIONS = 50

export default {
  name: 'http-drain-under-load',
  graceful: true,
  async run({ quick, log }) {
    const trials = quick ? 2 : 5
    const total = {
      sent: 0,
      answered: 0,
      ok: 0,
      s503: 0,
      other: 0,
      errors: 0,
      timeouts: 0,
      reqErrors: 0,
      completed: 0,
    }
    const problems = []
    const errorCodes = new Map()
    for (let t = 0; t < trials; t++) {
      const c = await trial({ quick, t, problems, errorCodes })
      for (const k of Object.keys(total)) total[k] += c[k]
      log(
        `  trial ${t + 1}/${trials}: SIGTERM after ${c.stopAfter} answers; sent ${c.sent}, answered ${c.answered} (2xx ${c.ok}, 503 ${c.s503}, other ${c.other}), errors ${c.errors}, timeouts ${c.timeouts}; server completed ${c.completed}; stop ${c.stopMs} ms`,
      )
    }
    if (errorCodes.size > 0)
      problems.push(`errors: ${[...errorCodes].map(([code, n]) => `${code} ×${n}`).join(', ')}`)
    const passed =
      problems.length === 0 &&
      total.answered === total.sent &&
      total.ok + total.s503 === total.sent &&
      total.other === 0 &&
      total.errors === 0 &&
      total.timeouts === 0 &&
      total.reqErrors === 0 &&
      total.completed === total.ok
    return [
      row({
        scenario: 'http-drain-under-load',
        graceful: true,
        trials,
        sent: total.sent,
        processed: total.answered,
        lost: total.sent - total.answered,
        duplicated: null,
        passed,
        notes: [
          `autocannon ${CONNECTIONS} connections, SIGTERM mid-run; answers: 2xx ${total.ok}, 503 ${total.s503}, other ${total.other}; errors ${total.errors}, timeouts ${total.timeouts}`,
          ...problems.slice(0, 4),
        ].join('; '),
      }),
    ]
  },
}

async function trial({ quick, t, problems, errorCodes }) {
  const app = new App(
    'http-app.mjs',
    { name: `drain-${t}`, haltAtNow: true, hold: true, workMs: 20 },
    { name: `drain-${t}` },
  )
  let instance
  try {
    const { address } = await app.next('ready')
    const port = address.port
    let sent = 0
    let answered = 0
    let ok = 0
    let s503 = 0
    let other = 0
    let halted = false
    let reqErrors = 0
    let first503 = false
    let allAnswered
    const whenAllAnswered = new Promise((resolve) => (allAnswered = resolve))
    const setupClient = (client) => {
      let closing = false
      const doRequest = client._doRequest
      client._doRequest = function (...args) {
        if (closing || halted) {
          closing = false
          return undefined
        }
        return doRequest.apply(this, args)
      }
      // Once halted, a client whose connection the server closes does not connect again (autocannon's stop()
      // only takes effect at its next sample tick, and meanwhile it would reconnect in a loop to a server that
      // has stopped listening at NOW).
      const reconnect = client._connect
      client._connect = function (...args) {
        if (halted) return undefined
        return reconnect.apply(this, args)
      }
      client.on('headers', ({ headers }) => {
        for (let i = 0; i < headers.length; i += 2)
          if (headers[i].toLowerCase() === 'connection' && headers[i + 1].toLowerCase() === 'close')
            closing = true
      })
      client.on('request', () => sent++)
      client.on('response', (statusCode) => {
        answered++
        if (statusCode >= 200 && statusCode < 300) ok++
        else if (statusCode === 503) {
          s503++
          if (!first503) {
            first503 = true
            app.send({ type: 'release' })
          }
        } else other++
        if (halted && answered === sent) allAnswered()
      })
    }
    const result = new Promise((resolve, reject) => {
      instance = autocannon(
        {
          url: `http://127.0.0.1:${port}/work`,
          connections: CONNECTIONS,
          duration: 120,
          sampleInt: 100,
          setupClient,
        },
        (err, r) => (err ? reject(err) : resolve(r)),
      )
    })
    instance.on('reqError', (err) => {
      reqErrors++
      const code = err?.code ?? err?.message ?? String(err)
      errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1)
    })

    // SIGTERM at a random moment once the server is busy, with /hold in flight.
    const stopAfter = randomInt(500, quick ? 3000 : 8000)
    if (!(await waitFor(() => answered >= stopAfter, { timeoutMs: 60_000, intervalMs: 5 })))
      throw new Error(`only ${answered} answers in 60 s`)
    const held = send({ port, path: '/hold' })
    await app.next('holding')
    const t0 = performance.now()
    app.signal('SIGTERM')
    // NOW: stop sending, as a load balancer would once readiness is down; the app then waits for `halted`.
    await app.next('now', 60_000)
    halted = true
    if (answered === sent) allAnswered()
    await whenAllAnswered
    instance.stop()
    app.send({ type: 'halted' })
    const r = await result
    const stopped = await app.next('stopped', 60_000)
    const exit = await app.waitExit(30_000)
    const stopMs = (performance.now() - t0).toFixed(0)
    const heldAnswer = await held
    if (!stopped.report.graceful || exit.code !== 0)
      problems.push(`trial ${t}: stop not graceful (exit ${exit.code ?? exit.signal})`)
    if (heldAnswer.status !== 200)
      problems.push(
        `trial ${t}: the request in flight at SIGTERM got ${heldAnswer.status ?? heldAnswer.error}`,
      )
    if (s503 === 0) problems.push(`trial ${t}: no client met a 503, the drain was not exercised`)
    if (stopped.log.error > 0) problems.push(`trial ${t}: ${stopped.log.error} errors logged`)
    const counted503 = r.statusCodeStats?.['503']?.count ?? 0
    if (r['2xx'] !== ok || counted503 !== s503)
      problems.push(
        `trial ${t}: autocannon counted 2xx ${r['2xx']}, 503 ${counted503}; the clients ${ok}, ${s503}`,
      )
    return {
      sent,
      answered,
      ok,
      s503,
      other,
      errors: r.errors,
      timeouts: r.timeouts,
      reqErrors,
      completed: stopped.completed,
      stopAfter,
      stopMs,
    }
  } finally {
    instance?.stop()
    if (app.running) await app.kill()
  }
}
