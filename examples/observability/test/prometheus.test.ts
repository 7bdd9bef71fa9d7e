// A real Prometheus server (its own config and data directory in a temp dir, on loopback) scraping the orders
// example's management /metrics every second with the rules of examples/observability loaded.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest'
import {
  ensureBuilt,
  freePort,
  startExample,
  type ExampleProcess,
} from '../../../test/support/example-process.js'
import { missingTool } from '../../../test/support/system-tool.js'
import { dashboardQueries, recordedNames, RULES, withoutVariables } from './observability-files.js'

const PROMETHEUS = '/usr/bin/prometheus'
const TOKEN = 'observability-token'

interface Sample {
  readonly metric: Record<string, string>
  readonly value: [number, string]
}

let skipReason: string | undefined
let app: ExampleProcess | undefined
let prometheus: ChildProcess | undefined
let prometheusExited: Promise<void> | undefined
let dir: string | undefined
let base = ''
let api = ''
let management = ''

async function query(expr: string): Promise<{ status: string; data?: { result: Sample[] }; error?: string }> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`)
  return (await res.json()) as { status: string; data?: { result: Sample[] }; error?: string }
}

async function series(expr: string): Promise<Sample[]> {
  const r = await query(expr)
  if (r.status !== 'success') throw new Error(`${expr}: ${r.error ?? r.status}`)
  return r.data?.result ?? []
}

const postOrder = (n: number) =>
  fetch(`${api}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: `prom-${n}`, items: [{ sku: 'camel-plush', quantity: 1 }] }),
  })

beforeAll(async () => {
  skipReason = missingTool(PROMETHEUS, 'prometheus', 'the Prometheus scrape test')
  if (skipReason !== undefined) return
  ensureBuilt('orders')
  const [port, managementPort, prometheusPort] = [await freePort(), await freePort(), await freePort()]
  api = `http://127.0.0.1:${port}`
  management = `http://127.0.0.1:${managementPort}`
  base = `http://127.0.0.1:${prometheusPort}`
  app = startExample('orders', {
    AMQP_URL: undefined,
    PORT: String(port),
    MANAGEMENT_PORT: String(managementPort),
    DROMEDARY_ADMIN_TOKEN: TOKEN,
    PAYMENT_DELAY_MS: '20',
  })
  await app.waitForLine((l) => l.msg.startsWith('Orders app ready'))

  dir = await mkdtemp(join(tmpdir(), 'dromedary-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(RULES.recording)}`,
      `  - ${JSON.stringify(RULES.alerting)}`,
      'scrape_configs:',
      '  - job_name: orders',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${managementPort}']`,
      '',
    ].join('\n'),
  )
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  prometheus = child
  prometheusExited = new Promise((resolve) => child.once('exit', () => resolve()))
  let log = ''
  // Prometheus logs to stderr; it is ready once it says so (or fails, and then the test says why).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Prometheus did not become ready:\n${log}`)), 30_000)
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      log += chunk
      if (log.includes('Server is ready to receive web requests.')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Prometheus exited with code ${code}:\n${log}`))
    })
  })
}, 60_000)

afterAll(async () => {
  if (prometheus !== undefined && prometheus.exitCode === null && prometheus.signalCode === null) {
    prometheus.kill('SIGTERM')
    const killer = setTimeout(() => prometheus?.kill('SIGKILL'), 5000)
    await prometheusExited
    clearTimeout(killer)
  }
  app?.kill()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
}, 20_000)

function ready(t: TestContext): void {
  if (skipReason !== undefined) {
    console.warn(`Skipping the Prometheus scrape test: ${skipReason}`)
    t.skip()
  }
}

describe('Prometheus scraping the orders example with the rules of examples/observability', () => {
  it('loads every rule and evaluates each without error', async (t) => {
    ready(t)
    type Rules = {
      data: {
        groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }>
      }
    }
    const rules = async () => ((await (await fetch(`${base}/api/v1/rules`)).json()) as Rules).data.groups
    await expect
      .poll(
        async () =>
          (await rules())
            .flatMap((g) => g.rules)
            .filter((r) => r.health !== 'ok')
            .map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`),
        {
          timeout: 20_000,
          interval: 250,
        },
      )
      .toEqual([])
    const groups = (await rules()).sort((a, b) => a.name.localeCompare(b.name))
    expect(groups.map((g) => [g.name, g.rules.length])).toEqual([
      ['dromedary-alerts', 7],
      ['dromedary-recording', 9],
    ])
  })

  it('records rates, percentiles and held work per route of the orders context', async (t) => {
    ready(t)
    // Prometheus must have seen the counters at zero first: rate() cannot count an increase it never saw.
    const scraped = () => series('dromedary_exchanges_total{job="orders",route="api",outcome="completed"}')
    await expect.poll(async () => (await scraped()).length, { timeout: 20_000, interval: 250 }).toBe(1)
    const sent = await Promise.all(Array.from({ length: 20 }, (_, n) => postOrder(n)))
    expect(sent.map((r) => r.status)).toEqual(sent.map(() => 202))
    const rate = () =>
      series('context_route:dromedary_exchanges:rate5m{job="orders",context="orders",route="api"}')
    await expect
      .poll(async () => Number((await rate())[0]?.value[1] ?? 0), { timeout: 20_000, interval: 250 })
      .toBeGreaterThan(0)
    const held = await series('context_route:dromedary_exchanges_held:sum{job="orders",context="orders"}')
    expect(held.map((s) => s.metric.route).sort()).toEqual([
      'api',
      'audit',
      'charge',
      'orders',
      'ship',
      'status',
    ])
    const p99 = () => series('context_route:dromedary_exchange_duration_seconds:p99_5m{route="api"}')
    await expect
      .poll(async () => Number((await p99())[0]?.value[1]), { timeout: 10_000, interval: 250 })
      .toBeGreaterThan(0)
    const names = await series('count by (__name__) ({__name__=~".+:dromedary_.+"})')
    // AMQP rules have no input here (in-memory queue); every other recorded series exists.
    expect(names.map((s) => s.metric.__name__).sort()).toEqual(
      recordedNames()
        .filter((n) => !n.includes('amqp'))
        .sort(),
    )
  }, 60_000)

  it('runs every query of the Grafana dashboard (variables replaced) as valid PromQL', async (t) => {
    ready(t)
    const failures: string[] = []
    for (const expr of dashboardQueries()) {
      const r = await query(withoutVariables(expr))
      if (r.status !== 'success') failures.push(`${expr}: ${r.error ?? r.status}`)
    }
    expect(failures).toEqual([])
  })

  it('raises DromedaryRouteDown as pending once a route is suspended while the context runs', async (t) => {
    ready(t)
    const res = await fetch(`${management}/routes/status/suspend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(res.status).toBe(200)
    type Alerts = { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }
    const alerts = async () =>
      ((await (await fetch(`${base}/api/v1/alerts`)).json()) as Alerts).data.alerts
        .filter((a) => a.labels.alertname === 'DromedaryRouteDown')
        .map((a) => [a.labels.route, a.labels.context, a.state])
    await expect.poll(alerts, { timeout: 20_000, interval: 250 }).toEqual([['status', 'orders', 'pending']])
  })
})
