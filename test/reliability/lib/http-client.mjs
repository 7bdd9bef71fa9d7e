// A small HTTP/1.1 client for the HTTP scenarios: one request, the whole answer read, every failure turned into
// a value (never a throw), so a scenario can count statuses, refused connections and resets.
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'

/** Error codes that mean the connection was reset or ended without an answer ("socket hang up"). */
export const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

/**
 * Sends one request to 127.0.0.1:`port` and resolves with `{ status, headers, body }` or with `{ error }`
 * (the error code: `ECONNREFUSED`, `ECONNRESET` — also Node's "socket hang up" —, `TIMEOUT`, …). `agent`
 * false means a connection of its own, closed after the answer.
 */
export function send({
  port,
  method = 'GET',
  path = '/',
  headers = {},
  body,
  agent = false,
  timeoutMs = 30_000,
}) {
  return new Promise((resolve) => {
    let done = false
    const finish = (value) => {
      if (done) return
      done = true
      resolve(value)
    }
    let req
    try {
      req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('error', (err) => finish({ error: codeOf(err) }))
        res.on('end', () =>
          finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        )
      })
    } catch (err) {
      // Node refused to send it (an invalid header name or value, a bad path): not the server's doing.
      finish({ error: 'CLIENT_REFUSED', message: err instanceof Error ? err.message : String(err) })
      return
    }
    req.setTimeout(timeoutMs, () => {
      finish({ error: 'TIMEOUT' })
      req.destroy()
    })
    req.on('error', (err) => finish({ error: codeOf(err) }))
    req.end(body)
  })
}

function codeOf(err) {
  if (err?.code === 'ECONNRESET' && /socket hang up/i.test(err.message)) return 'ECONNRESET (socket hang up)'
  return err?.code ?? err?.message ?? String(err)
}

/** True when `code` (from `send`) is a reset or an end of connection without an answer. */
export function isReset(code) {
  return RESET_CODES.has(code.split(' ')[0])
}

/**
 * True when `text` looks like it carries a stack trace or a server-side path: V8 frames (`at f (file:1:2)`,
 * `at file:1:2`), `file://` URLs, absolute paths to .js/.ts/.mjs files, or `node_modules`.
 */
export function hasStackTrace(text) {
  return (
    /\bat (?:async )?(?:[\w$.<>[\] ]+ )?\(?(?:file:\/\/|node:|\/)[^)\s]*:\d+:\d+\)?/.test(text) ||
    /\n\s+at \S/.test(text) ||
    /file:\/\//.test(text) ||
    /(?:^|[\s"'(])\/[\w.@-]+(?:\/[\w.@-]+)+\.(?:js|mjs|cjs|ts)\b/.test(text) ||
    /node_modules/.test(text)
  )
}

/**
 * Writes `bytes` as they are on a connection of its own, half-closes it, and reads until the server closes
 * (or `timeoutMs`). Resolves with the statuses of every answer in what came back, the text, and how the
 * connection ended: `end` (a clean close), `reset`, or `timeout`.
 */
export function sendRaw({ port, bytes, timeoutMs = 3000 }) {
  return new Promise((resolve) => {
    const chunks = []
    let ended
    const socket = connect({ host: '127.0.0.1', port })
    const finish = () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const statuses = [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1]))
      resolve({ statuses, text, ended })
    }
    const timer = setTimeout(() => {
      ended ??= 'timeout'
      socket.destroy()
    }, timeoutMs)
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', (err) => {
      ended ??= RESET_CODES.has(err.code) ? 'reset' : (err.code ?? 'error')
    })
    socket.on('end', () => {
      ended ??= 'end'
    })
    socket.on('close', finish)
    socket.on('connect', () => socket.end(bytes))
  })
}
