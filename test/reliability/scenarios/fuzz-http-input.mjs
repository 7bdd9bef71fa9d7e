// fuzz-http-input: fast-check-generated requests against a real app process (fixtures/http-app.mjs: JSON,
// echo, path-parameter and validating routes, plus the management server with a token the fuzzer never sends):
// random methods, paths (encoded, dotted, very long), query strings (__proto__, brackets, bad escapes), content
// types (valid, odd, malformed), bodies (JSON, prototype-pollution JSON, deep nesting, text, random bytes,
// around and above the 1 MiB body limit) and headers (random names and values, content-encoding, expect,
// spoofed http.status, authorization); and raw malformed HTTP on a socket (bad or conflicting Content-Length,
// Content-Length with chunked, bad chunks, bad header names and values, huge headers, bad versions, garbage).
// Holds when every well-formed request is answered 2xx–4xx, never 5xx; every malformed one is answered 4xx or
// closed cleanly, never 5xx; no answer carries a stack trace or a server path; nothing was logged at error;
// the server is up afterwards (GET /health, the management liveness probe and a valid order succeed) and
// stops gracefully.
import fc from 'fast-check'
import { App } from '../lib/child.mjs'
import { hasStackTrace, isReset, send, sendRaw } from '../lib/http-client.mjs'
import { row } from '../lib/report.mjs'

const MIB = 1024 * 1024
const CONCURRENCY = 8

// --- generators ------------------------------------------------------------------------------------------
const printable = (max) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${max}}$`))
const tokenish = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}$/)
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{0,16}$/) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%00',
      '%zz',
      '%',
      '%ff%fe',
      '%2F',
      ':id',
      '*',
      'a;b=c',
      '%C3%A4%C3%B6',
      '__proto__',
      'constructor',
      'prototype',
      '%E0%A4%A',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 12_000 }).map((n) => 'x'.repeat(n)) },
)
const appPath = fc.oneof(
  fc.constantFrom('/orders', '/echo', '/health', '/work', '/items/1', '/', '/orders/', '//echo', '/ECHO'),
  fc.tuple(fc.constantFrom('/items/', '/echo/', '/orders/', '/'), segment).map(([a, b]) => a + b),
  fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
)
const mgmtPath = fc.oneof(
  fc.constantFrom(
    '/metrics',
    '/health/live',
    '/health/ready',
    '/routes',
    '/inflight',
    '/shutdown-strategy',
    '/shutdown',
  ),
  fc
    .tuple(
      fc.oneof(fc.constantFrom('echo', 'orders', 'work', 'nope'), segment),
      fc.oneof(fc.constantFrom('start', 'stop', 'suspend', 'resume'), segment),
    )
    .map(([id, action]) => `/routes/${id}/${action}`),
)
const queryValue = fc.oneof(
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.constantFrom('', '-1', '0', '5', 'abc', '1e9', '999999999999', 'true', 'false', '%zz', '%', '[]', '{}'),
)
const query = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          '__proto__',
          'constructor',
          'a[b]',
          'a[]',
          'limit',
          'routeId',
          'sortByLongestDuration',
          'method',
        ),
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/),
      ),
      queryValue,
    ),
    { maxLength: 6 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`))
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
  { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'TRACE', 'PURGE', 'SEARCH', 'FOO', 'get') },
)
const contentType = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.order+json',
      'text/plain',
      'text/html; charset=latin1',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
      'application/xml',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json;;;',
      '/',
      ';',
      'text/',
      ' ',
      'application/json; charset=nope',
      'application/json; charset=utf-16',
      'json',
      'application/problem+json',
      'APPLICATION/JSON',
      '*/*',
      'application/json, text/plain',
    ),
  },
  { weight: 2, arbitrary: printable(40) },
  { weight: 2, arbitrary: fc.constant(undefined) },
)
const deep = (n) => `${'['.repeat(n)}${']'.repeat(n)}`
const bigBody = fc
  .constantFrom(MIB - 100, MIB, MIB + 1, 2 * MIB, 3 * MIB)
  .map((n) => `{"pad":"${'x'.repeat(Math.max(0, n - 10))}"}`)
const body = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.record({ id: fc.string({ maxLength: 80 }) }).map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      '{',
      '[',
      'null',
      '"x"',
      '1e999',
      '{"a":1,"a":2}',
      '\uFEFF{}',
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"id":{"__proto__":{"length":1}}}',
      deep(50_000),
      `{"id":"${'i'.repeat(100_000)}"}`,
      'a=1&a=2&__proto__[x]=1&b',
      '\u0000\u0001\u0002',
    ),
  },
  { weight: 1, arbitrary: bigBody },
  { weight: 2, arbitrary: fc.constant(undefined) },
)
const headers = fc.dictionary(
  fc.oneof(
    tokenish,
    fc.constantFrom(
      'content-encoding',
      'expect',
      'http.status',
      'authorization',
      'accept',
      'accept-encoding',
      'x-forwarded-for',
      'x-http-method-override',
      'cookie',
      'range',
      'if-none-match',
      'origin',
    ),
  ),
  fc.oneof(
    printable(80),
    fc.constantFrom(
      'gzip',
      'br',
      'deflate',
      'identity',
      'x-unknown',
      '100-continue',
      '500',
      '999',
      'Bearer nope',
      'Bearer ',
      'Basic Zm9vOmJhcg==',
      'bytes=0-1',
      'application/xml',
      '*/*',
    ),
  ),
  { maxKeys: 5 },
)
const request = fc.record({
  target: fc.constantFrom('app', 'app', 'app', 'app', 'mgmt'),
  method,
  appPath,
  mgmtPath,
  query,
  contentType,
  body,
  headers,
})

const HOST = 'Host: 127.0.0.1\r\n'
const raw = fc.oneof(
  fc.constantFrom(
    `GET /echo HTTP/1.1\r\n${HOST}Content-Length: abc\r\n\r\n`,
    `GET /echo HTTP/1.1\r\n${HOST}Content-Length: -1\r\n\r\n`,
    `POST /echo HTTP/1.1\r\n${HOST}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    `POST /echo HTTP/1.1\r\n${HOST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `POST /echo HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    `POST /echo HTTP/1.1\r\n${HOST}Transfer-Encoding: gzip, chunked, x\r\n\r\n0\r\n\r\n`,
    `POST /orders HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 1\r\n\r\n{`,
    `GET / HTTP/1.1\r\nHo st: x\r\n\r\n`,
    `GET / HTTP/1.1\r\n${HOST}X-Bad: a\u0000b\r\n\r\n`,
    `GET / HTTP/1.1\r\n${HOST}X-Big: ${'y'.repeat(20_000)}\r\n\r\n`,
    `GET / HTTP/9.9\r\n${HOST}\r\n`,
    `GET /\r\n\r\n`,
    `\r\n\r\n`,
    `GET  /echo  HTTP/1.1\r\n${HOST}\r\n`,
    `GET http://evil.example/echo HTTP/1.1\r\nHost: evil.example\r\n\r\n`,
    `OPTIONS * HTTP/1.1\r\n${HOST}\r\n`,
    `CONNECT 127.0.0.1:1 HTTP/1.1\r\n${HOST}\r\n`,
    `GET /echo HTTP/1.1\r\n\r\n`,
    `GET /echo HTTP/1.0\r\n\r\n`,
    `GET /echo HTTP/1.1\r\n${HOST}Host: other\r\n\r\n`,
    `GET /echo HTTP/1.1\r\n${HOST} folded: header\r\n\r\n`,
    `GET /%%%%/../../etc/passwd HTTP/1.1\r\n${HOST}\r\n`,
    `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
    `POST /echo HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}`,
  ),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
  fc
    .tuple(fc.constantFrom('GET', 'POST', 'get', 'G\u0000T', ''), fc.string({ maxLength: 40 }), printable(40))
    .map(([m, path, v]) => `${m} /${path} HTTP/1.1\r\n${HOST}X-V: ${v}\r\n\r\n`),
)

// --- the scenario ------------------------------------------------------------------------------------------
export default {
  name: 'fuzz-http-input',
  async run({ quick, log }) {
    const runs = quick ? 2000 : 10_000
    const rawRuns = quick ? 200 : 1000
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
    const token = [...crypto.getRandomValues(new Uint8Array(24))].map((b) => b.toString(16)).join('')
    const app = new App('http-app.mjs', { name: 'fuzz-http', management: true, token }, { name: 'fuzz-http' })
    const problems = []
    const failures = new Map() // kind → { count, example }
    const fail = (kind, example) => {
      const f = failures.get(kind) ?? { count: 0, example }
      f.count++
      failures.set(kind, f)
    }
    const statuses = new Map()
    let sent = 0
    let good = 0
    let clientRefused = 0
    let rawClosed = 0
    try {
      const ready = await app.next('ready')
      const ports = { app: ready.address.port, mgmt: ready.management.port }
      const cases = fc.sample(request, { numRuns: runs, seed })
      const rawCases = fc.sample(raw, { numRuns: rawRuns, seed: seed + 1 })

      const check = (what, status, text) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        let ok = true
        if (status >= 500) {
          fail(`${status} answer`, what)
          ok = false
        }
        if (hasStackTrace(text)) {
          fail('stack trace or server path in an answer', `${what} → ${text.slice(0, 300)}`)
          ok = false
        }
        return ok
      }
      const one = async (c) => {
        const path = (c.target === 'app' ? c.appPath : c.mgmtPath) + c.query
        const h = { ...c.headers }
        if (c.headers.authorization?.includes(token)) delete h.authorization
        if (c.contentType !== undefined) h['content-type'] = c.contentType
        const b = c.method === 'GET' || c.method === 'HEAD' ? undefined : c.body
        // Node's client frames a body of GET/OPTIONS/DELETE… with neither Content-Length nor chunked
        // encoding, so the server would read it as the next request: frame every body explicitly.
        if (b !== undefined) h['content-length'] = String(Buffer.byteLength(b))
        const res = await send({
          port: ports[c.target],
          method: c.method,
          path,
          headers: h,
          body: b,
          timeoutMs: 15_000,
        })
        const what = `${c.target} ${c.method} ${path.length > 300 ? `${path.slice(0, 100)}…(${path.length})…${path.slice(-200)}` : path} content-type=${JSON.stringify(c.contentType)} body=${describe(c.body)} headers=${JSON.stringify(c.headers).slice(0, 200)}`
        if (res.error === 'CLIENT_REFUSED') {
          clientRefused++
          return
        }
        sent++
        if (res.error !== undefined) {
          fail(isReset(res.error) ? `reset (${res.error})` : `no answer (${res.error})`, what)
          return
        }
        // The answers echo the request's path (404 and 405 details, `instance`): what the client sent is no leak.
        const pathOnly = path.split('?')[0]
        let text = `${JSON.stringify(res.headers)}\n${res.body.toString('utf8')}`
        if (pathOnly.length >= 4) text = text.split(pathOnly).join('')
        if (check(what, res.status, text)) good++
      }
      const oneRaw = async (bytes) => {
        sent++
        const res = await sendRaw({ port: ports.app, bytes })
        const what = `raw ${JSON.stringify(bytes.toString('latin1').slice(0, 160))}`
        if (res.ended === 'timeout') fail('raw: no answer and no close within 3 s', what)
        else if (res.ended === 'reset') fail('raw: connection reset', what)
        let ok = res.ended !== 'timeout' && res.ended !== 'reset'
        if (res.statuses.length === 0) rawClosed++
        for (const s of res.statuses) ok = check(what, s, res.text) && ok
        if (ok) good++
      }
      await pool([...cases.map((c) => () => one(c)), ...rawCases.map((b) => () => oneRaw(b))], CONCURRENCY)

      // Still up: health, liveness on the management server, and a valid order.
      const health = await send({ port: ports.app, path: '/health' })
      const live = await send({ port: ports.mgmt, path: '/health/live' })
      const orderBody = JSON.stringify({ id: 'canary' })
      const canary = await send({
        port: ports.app,
        method: 'POST',
        path: '/orders',
        headers: { 'content-type': 'application/json' },
        body: orderBody,
      })
      if (health.status !== 200 || live.status !== 200 || canary.status !== 201)
        problems.push(
          `not healthy after the fuzz: /health ${health.status ?? health.error}, /health/live ${live.status ?? live.error}, order ${canary.status ?? canary.error}`,
        )
      if (!app.running) problems.push('the app process died')
      app.signal('SIGTERM')
      const stopped = await app.next('stopped', 60_000)
      const exit = await app.waitExit(30_000)
      if (!stopped.report.graceful || exit.code !== 0)
        problems.push(`the stop after the fuzz was not graceful (exit ${exit.code ?? exit.signal})`)
      if (stopped.log.error > 0)
        problems.push(
          `${stopped.log.error} errors logged, e.g. ${stopped.notable.find((n) => n.level === 'error')?.msg}`,
        )

      for (const [kind, f] of failures) log(`  FAILURE ×${f.count}: ${kind}\n    e.g. ${f.example}`)
      const byStatus = [...statuses]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')
      log(
        `  ${sent} requests (${runs} generated, ${clientRefused} refused by Node's client; ${rawRuns} raw, ${rawClosed} closed without an answer); statuses: ${byStatus}`,
      )
      return [
        row({
          scenario: 'fuzz-http-input',
          trials: 1,
          sent,
          processed: good,
          passed: failures.size === 0 && problems.length === 0 && good === sent,
          notes: [
            `seed ${seed}; ${runs - clientRefused} generated + ${rawRuns} raw requests; statuses ${byStatus}; ${rawClosed} raw closed without answer`,
            ...[...failures].slice(0, 3).map(([kind, f]) => `${f.count}× ${kind}`),
            ...problems.slice(0, 3),
          ].join('; '),
        }),
      ]
    } finally {
      if (app.running) await app.kill()
    }
  },
}

function describe(b) {
  if (b === undefined) return 'none'
  if (Buffer.isBuffer(b)) return `bytes(${b.length})`
  return b.length > 80 ? `text(${b.length}) ${JSON.stringify(b.slice(0, 40))}…` : JSON.stringify(b)
}

/** Runs the tasks with at most `n` at once. */
async function pool(tasks, n) {
  let next = 0
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < tasks.length) await tasks[next++]()
    }),
  )
}
