// security: two app processes (fixtures/http-app.mjs) with the management server, one with a token and one
// without, both on default hosts. Checks that every management mutation (POST /shutdown, PATCH
// /shutdown-strategy, POST /routes/:id/start|stop|suspend|resume) answers 401 with `WWW-Authenticate: Bearer`
// without a token or with any wrong one (near misses, other schemes, no scheme), 403 when no token is
// configured (whatever is sent), and changes nothing; that the right token does work (so the 401s mean
// something); that both servers bind 127.0.0.1 by default and are not reachable on the machine's other
// addresses; and that no answer of either server — 400, 404, 405, 413, 415, 431, a failed exchange's 500, a
// failed management action's 500 — carries a stack trace, a server path or the exception's message. Holds
// when every check passes (sent = checks made, processed = checks passed).
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { App } from '../lib/child.mjs'
import { hasStackTrace, send, sendRaw } from '../lib/http-client.mjs'
import { row } from '../lib/report.mjs'

const MUTATIONS = [
  ['POST', '/shutdown', { timeoutMs: 1000 }],
  ['POST', '/shutdown', { force: true }],
  ['PATCH', '/shutdown-strategy', { timeoutMs: 1 }],
  ['POST', '/routes/work/stop', {}],
  ['POST', '/routes/work/suspend', {}],
  ['POST', '/routes/health/stop', { timeoutMs: 1 }],
  ['POST', '/routes/work/start', {}],
  ['POST', '/routes/work/resume', {}],
]

export default {
  name: 'security',
  async run({ log }) {
    const token = [...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16)).join('')
    const checks = []
    const check = (name, ok, detail = '') => {
      checks.push({ name, ok, detail })
      if (!ok) log(`  FAILED: ${name}${detail === '' ? '' : ` — ${detail}`}`)
    }
    const secured = new App(
      'http-app.mjs',
      { name: 'security-token', management: true, token, boom: true },
      { name: 'security-token' },
    )
    const open = new App(
      'http-app.mjs',
      { name: 'security-no-token', management: true },
      { name: 'security-no-token' },
    )
    try {
      const [a, b] = [await secured.next('ready'), await open.next('ready')]
      const S = { app: a.address.port, mgmt: a.management.port }
      const O = { mgmt: b.management.port }

      // Every answer seen goes through this: no stack trace, no server path, no exception message.
      const call = async (port, method, path, { headers = {}, body, raw } = {}) => {
        let res
        if (raw !== undefined) {
          const r = await sendRaw({ port, bytes: raw })
          res = { status: r.statuses[0], text: r.text, headers: {} }
        } else {
          const h = { ...headers }
          let payload = body
          if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
            payload = JSON.stringify(body)
            h['content-type'] ??= 'application/json'
          }
          if (payload !== undefined) h['content-length'] = String(Buffer.byteLength(payload))
          const r = await send({ port, method, path, headers: h, body: payload })
          if (r.error !== undefined) res = { status: undefined, text: r.error, headers: {} }
          else
            res = {
              status: r.status,
              text: `${JSON.stringify(r.headers)}\n${r.body.toString('utf8')}`,
              headers: r.headers,
            }
        }
        const leaks =
          hasStackTrace(res.text) || /secret|collect failed|\/srv\/app|\/etc\/dromedary/i.test(res.text)
        check(
          `${method} ${path} (${res.status}): no stack trace, path or exception message`,
          !leaks,
          res.text.slice(0, 200),
        )
        return res
      }
      const problem = (res) =>
        String(res.headers['content-type'] ?? '').startsWith('application/problem+json')

      // --- bind addresses ------------------------------------------------------------------------------
      check(
        'management server binds 127.0.0.1 by default',
        a.management.host === '127.0.0.1',
        a.management.host,
      )
      check('http component binds 127.0.0.1 by default', a.address.host === '127.0.0.1', a.address.host)
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((i) => i !== undefined && !i.internal && i.family === 'IPv4')
        .map((i) => i.address)
      for (const ip of others) {
        for (const [what, port] of [
          ['management', S.mgmt],
          ['http', S.app],
        ]) {
          const outcome = await tryConnect(ip, port)
          check(`${what} port not reachable on ${ip}`, outcome !== 'connected', outcome)
        }
      }
      const unreachableOn = others.length === 0 ? 'no non-loopback interface to try' : others.join(', ')

      // --- mutations without a valid token ----------------------------------------------------------------
      const wrong = [
        undefined,
        'Bearer wrong',
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token.toUpperCase()}`,
        `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
        token,
        'Bearer',
        'Bearer ',
        `Bearer ${token} extra`,
        `Token ${token}`,
      ]
      let refused = 0
      for (const [method, path, body] of MUTATIONS) {
        for (const auth of wrong) {
          const res = await call(S.mgmt, method, path, {
            headers: auth === undefined ? {} : { authorization: auth },
            body,
          })
          const ok = res.status === 401 && res.headers['www-authenticate'] === 'Bearer' && problem(res)
          if (ok) refused++
          check(
            `${method} ${path} with ${auth === undefined ? 'no token' : 'a wrong token'} → 401`,
            ok,
            `got ${res.status}`,
          )
        }
        for (const auth of [undefined, 'Bearer anything', `Bearer ${token}`]) {
          const res = await call(O.mgmt, method, path, {
            headers: auth === undefined ? {} : { authorization: auth },
            body,
          })
          const ok = res.status === 403 && problem(res)
          if (ok) refused++
          check(`${method} ${path} without a configured token → 403`, ok, `got ${res.status}`)
        }
      }
      // Nothing changed: both contexts run, every route is started, the strategy's timeout is the default.
      for (const [which, port] of [
        ['token', S.mgmt],
        ['no-token', O.mgmt],
      ]) {
        const routes = await call(port, 'GET', '/routes')
        const list = JSON.parse(routes.text.slice(routes.text.indexOf('\n') + 1))
        check(
          `${which}: every route still started after the refused mutations`,
          list.every((r) => r.status === 'started'),
          routes.text.slice(0, 200),
        )
        const strategy = await call(port, 'GET', '/shutdown-strategy')
        check(
          `${which}: shutdown strategy unchanged`,
          /"timeoutMs":300000\b/.test(strategy.text),
          strategy.text.slice(0, 200),
        )
        const ready = await call(port, 'GET', '/health/ready')
        check(`${which}: still ready`, ready.status === 200, `got ${ready.status}`)
      }
      check('the apps are still running', secured.running && open.running)

      // --- the right token works (so the 401s above mean something) --------------------------------------
      const bearer = { authorization: `Bearer ${token}` }
      const patched = await call(S.mgmt, 'PATCH', '/shutdown-strategy', {
        headers: bearer,
        body: { timeoutMs: 12_345 },
      })
      check(
        'PATCH /shutdown-strategy with the token → 200',
        patched.status === 200 && /"timeoutMs":12345\b/.test(patched.text),
        patched.text.slice(0, 200),
      )
      const suspended = await call(S.mgmt, 'POST', '/routes/work/suspend', { headers: bearer })
      const during = await call(S.app, 'GET', '/work')
      const resumed = await call(S.mgmt, 'POST', '/routes/work/resume', { headers: bearer })
      const after = await call(S.app, 'GET', '/work')
      check(
        'suspend/resume with the token take effect',
        suspended.status === 200 && during.status === 503 && resumed.status === 200 && after.status === 200,
        `${suspended.status} ${during.status} ${resumed.status} ${after.status}`,
      )

      // --- error answers of both servers carry no stack trace --------------------------------------------
      const expect = async (port, what, status, method, path, options) => {
        const res = await call(port, method, path, options)
        check(
          `${what} → ${status} problem+json`,
          res.status === status && (options?.raw !== undefined || problem(res)),
          `got ${res.status} ${res.headers['content-type'] ?? ''}`,
        )
      }
      await expect(S.app, 'app: unknown path', 404, 'GET', '/nope')
      await expect(S.app, 'app: wrong method', 405, 'DELETE', '/health')
      await expect(S.app, 'app: bad JSON', 400, 'POST', '/orders', {
        headers: { 'content-type': 'application/json' },
        body: '{"id": ',
      })
      await expect(S.app, 'app: body over the limit', 413, 'POST', '/orders', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
      })
      await expect(S.app, 'app: malformed content type', 415, 'POST', '/echo', {
        headers: { 'content-type': '(bad)' },
        body: 'x',
      })
      await expect(S.app, 'app: failed exchange', 500, 'GET', '/boom')
      await expect(S.app, 'app: unparseable request', 400, 'RAW', '/', {
        raw: 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n',
      })
      await expect(S.app, 'app: headers too large', 431, 'RAW', '/', {
        raw: `GET / HTTP/1.1\r\nHost: x\r\nX: ${'y'.repeat(20_000)}\r\n\r\n`,
      })
      await expect(S.mgmt, 'management: unknown path', 404, 'GET', '/nope')
      await expect(S.mgmt, 'management: unknown route', 404, 'POST', '/routes/nope/stop', { headers: bearer })
      await expect(S.mgmt, 'management: bad JSON', 400, 'PATCH', '/shutdown-strategy', {
        headers: { ...bearer, 'content-type': 'application/json' },
        body: '{"timeoutMs": ',
      })
      await expect(S.mgmt, 'management: unknown field', 400, 'PATCH', '/shutdown-strategy', {
        headers: bearer,
        body: { nope: 1 },
      })
      await expect(S.mgmt, 'management: bad value', 400, 'PATCH', '/shutdown-strategy', {
        headers: bearer,
        body: { timeoutMs: -5 },
      })
      await expect(S.mgmt, 'management: unparseable request', 400, 'RAW', '/', {
        raw: 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n',
      })
      await secured.request({ type: 'break-metrics' }, 'metrics-broken')
      await expect(S.mgmt, 'management: failed action (metrics collection throws)', 500, 'GET', '/metrics')

      // Both stop gracefully.
      for (const app of [secured, open]) {
        app.signal('SIGTERM')
        const stopped = await app.next('stopped', 60_000)
        const exit = await app.waitExit(30_000)
        check(
          `${app === secured ? 'token' : 'no-token'} app stops gracefully`,
          stopped.report.graceful && exit.code === 0,
          `exit ${exit.code ?? exit.signal}`,
        )
      }

      const failed = checks.filter((c) => !c.ok)
      log(
        `  ${checks.length} checks, ${failed.length} failed; ${refused} refused mutations; other interfaces tried: ${unreachableOn}`,
      )
      return [
        row({
          scenario: 'security',
          trials: 1,
          sent: checks.length,
          processed: checks.length - failed.length,
          passed: failed.length === 0,
          notes: [
            `${MUTATIONS.length} mutations × ${wrong.length} missing/wrong tokens → 401, × 3 without a configured token → 403 (${refused} refused, nothing changed); the right token works`,
            `both servers on 127.0.0.1, unreachable on ${unreachableOn}; no stack trace in 400/404/405/413/415/431/500 answers`,
            ...failed.slice(0, 3).map((c) => `FAILED ${c.name}`),
          ].join('; '),
        }),
      ]
    } finally {
      for (const app of [secured, open]) if (app.running) await app.kill()
    }
  },
}

/** `connected`, or the error code of a TCP connection attempt to ip:port (2 s at most). */
function tryConnect(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (outcome) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => done('timeout'), 2000)
    socket.on('connect', () => done('connected'))
    socket.on('error', (err) => done(err.code ?? err.message))
  })
}
