// The shutdown log as a container sees it: stdout a file (and a pipe), SIGTERM with orders in flight, once
// draining gracefully and once running out of a short timeout. Every expected line must be there, in order,
// with non-decreasing pino timestamps, before the process exits.
import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, watch } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureBuilt,
  freePort,
  ROOT,
  startExample,
  type LogLine,
} from '../../../test/support/example-process.js'

const ORDER = { customer: 'ada', items: [{ sku: 'camel-plush', quantity: 1 }] }
const ORDERS = 3
/** Enough in flight at the timeout that its InflightExchange lines overflow a pipe's buffer (64 KiB). */
const MANY = 400
const ROUTES = ['ship', 'charge', 'audit', 'api', 'status', 'orders']
const dir = mkdtempSync(join(tmpdir(), 'dromedary-orders-log-'))

beforeAll(() => ensureBuilt('orders'), 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Scenario {
  readonly orders: number
  readonly env: Record<string, string>
  readonly exitCode: number
  /** What must appear, in this order (other lines may come between). */
  readonly expected: readonly RegExp[]
}

const graceful: Scenario = {
  orders: ORDERS,
  env: { PAYMENT_DELAY_MS: '1000', SHUTDOWN_TIMEOUT_MS: '30000' },
  exitCode: 0,
  expected: [
    /^Running: SIGTERM or SIGINT stops it gracefully/,
    /^Received SIGTERM: starting graceful shutdown/,
    /^Shutdown notice: intake stops, 30 seconds until shutdown now$/,
    /^Starting to graceful shutdown 6 routes \(timeout 30 seconds\)$/,
    new RegExp(`^Waiting as there are still ${ORDERS} inflight and pending exchanges`),
    ...Array.from({ length: ORDERS }, () => /^Shipped order /),
    /^Shutdown now: 5000 ms for final cleanup$/,
    /^Graceful shutdown of 6 routes completed in \d+\.\d{3} s$/,
    ...ROUTES.map((id) => new RegExp(`^Stopped ${id} \\(`)),
  ],
}

const timedOut: Scenario = {
  orders: MANY,
  env: { PAYMENT_DELAY_MS: '60000', SHUTDOWN_TIMEOUT_MS: '1000' },
  exitCode: 1,
  expected: [
    /^Running: SIGTERM or SIGINT stops it gracefully/,
    /^Received SIGTERM: starting graceful shutdown/,
    /^Shutdown notice: intake stops, 1 seconds until shutdown now$/,
    /^Starting to graceful shutdown 6 routes \(timeout 1 seconds\)$/,
    new RegExp(`^Waiting as there are still ${MANY} inflight and pending exchanges`),
    /^Timeout occurred during graceful shutdown\. Forcing the routes to be shutdown now\./,
    ...Array.from({ length: MANY }, () => /^InflightExchange: \[.*fromRouteId=orders, .*nodeId=delay1/),
    /^Shutdown now: 5000 ms for final cleanup$/,
    /^Shutdown of 6 routes completed in \d+\.\d{3} s \(forced 6\)$/,
    ...ROUTES.map((id) => new RegExp(`^Forced stopped ${id} \\(`)),
  ],
}

const parse = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        const o = JSON.parse(l) as Record<string, unknown>
        return { ...o, msg: typeof o.msg === 'string' ? o.msg : '' }
      } catch {
        return { msg: l }
      }
    })

/** Resolves once the file has a line matching `re`; rejects if the process exits first. */
function fileLine(file: string, re: RegExp, exited: Promise<unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const has = () => parse(readFileSync(file, 'utf8')).some((l) => re.test(l.msg))
    const watcher = watch(file, () => {
      if (!has()) return
      watcher.close()
      resolve()
    })
    if (has()) {
      watcher.close()
      resolve()
    }
    void exited.then(() => {
      watcher.close()
      reject(new Error(`the orders app exited before logging ${re}:\n${readFileSync(file, 'utf8')}`))
    })
  })
}

async function postOrders(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ORDER),
    })
    expect(res.status).toBe(202)
  }
}

/** Runs the orders app with stdout (and stderr) a file or a pipe; returns its lines and exit code. */
async function run(stdout: 'file' | 'pipe', s: Scenario): Promise<{ lines: LogLine[]; code: number | null }> {
  const [port, managementPort] = [await freePort(), await freePort()]
  const env = { ...s.env, PORT: String(port), MANAGEMENT_PORT: String(managementPort) }
  const running = /^Running: /
  if (stdout === 'pipe') {
    const app = startExample('orders', env)
    try {
      await app.waitForLine((l) => running.test(l.msg), 15_000)
      await postOrders(port, s.orders)
      app.child.kill('SIGTERM')
      const { code } = await app.exited
      return { lines: [...app.lines], code }
    } finally {
      app.kill()
    }
  }
  const file = join(dir, `orders-${s.exitCode}-${Date.now()}.log`)
  const fd = openSync(file, 'w')
  const child = spawn(process.execPath, [join(ROOT, 'examples', 'orders', 'dist', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  try {
    await fileLine(file, running, exited)
    await postOrders(port, s.orders)
    child.kill('SIGTERM')
    const code = await exited
    return { lines: parse(readFileSync(file, 'utf8')), code }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

/** The index in `lines` of each expected pattern, matched in order; -1 from the first one missing. */
function inOrder(lines: readonly LogLine[], expected: readonly RegExp[]): number[] {
  const at: number[] = []
  let from = 0
  for (const re of expected) {
    const i = lines.findIndex((l, k) => k >= from && re.test(l.msg))
    at.push(i)
    if (i < 0) break
    from = i + 1
  }
  return at
}

describe.each([['file'], ['pipe']] as const)(
  'the orders app with stdout a %s, SIGTERM with orders in flight',
  (stdout) => {
    it.each([
      ['drains gracefully', graceful],
      ['times out and forces', timedOut],
    ] as const)(
      '%s: every shutdown line is there, in order, timestamps non-decreasing',
      async (_, s) => {
        const { lines, code } = await run(stdout, s)
        const text = lines.map((l) => l.msg).join('\n')
        const at = inOrder(lines, s.expected)
        const missing = s.expected[at.length - 1]
        expect(at.includes(-1) ? `missing or out of order: ${missing}` : 'all in order', text).toBe(
          'all in order',
        )
        const times = lines.map((l) => l.time).filter((t): t is number => typeof t === 'number')
        expect(times.length, text).toBe(lines.length) // every line is pino JSON
        const backwards = times.findIndex((t, i) => i > 0 && t < times[i - 1]!)
        expect(backwards, `timestamps go backwards at line ${backwards}:\n${text}`).toBe(-1)
        expect(code, text).toBe(s.exitCode)
      },
      30_000,
    )
  },
)
