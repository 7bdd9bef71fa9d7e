// Reliability suite (issue 9): shutdown under load, faults, rolling restarts and bad input, against the real
// broker and real sockets. Writes results/latest.json and prints a table. See docs/reliability.md.
//   pnpm test:reliability                  full run (< 20 min on 2 cores)
//   pnpm test:reliability -- --quick       fewer trials and messages (< 5 min)
//   pnpm test:reliability -- --only=amqp-kill,soak   only the scenarios whose name starts with one of these
import { mkdirSync, rmSync } from 'node:fs'
import { killLeftovers } from './lib/child.mjs'
import { ensureBrokerRunning } from './lib/broker.mjs'
import { LOG_DIR, RUN_DIR } from './lib/paths.mjs'
import { failedRow, formatTable, writeResults } from './lib/report.mjs'

// In run order; each file in scenarios/ is named after its scenario and exports { name, graceful, run }.
const SCENARIOS = [
  'amqp-graceful-under-load',
  'amqp-forced-timeout',
  'amqp-kill-9',
  'amqp-connection-drop',
  'amqp-broker-restart',
  'amqp-kill-9+inbox',
  'amqp-connection-drop+inbox',
  'amqp-broker-restart+inbox',
  'outbox-relay-kill-9',
  'nats-graceful-under-load',
  'nats-kill-9',
  'redis-graceful-under-load',
  'redis-kill-9',
  'amqp-crash-loop',
  'amqp-to-seda-forced',
  'amqp-silent-broker',
  'fuzz-dsl-and-uris',
  'fuzz-amqp-input',
  'soak',
  'rolling-restart',
  'http-drain-under-load',
  'http-slowloris',
  'fuzz-http-input',
  'security',
]

const args = process.argv.slice(2).filter((a) => a !== '--')
const quick = args.includes('--quick')
const keepLogs = args.includes('--keep-logs')
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const selected = SCENARIOS.filter((name) => only === undefined || only.some((o) => name.startsWith(o)))
const T0 = Date.now()
const log = (msg) => process.stderr.write(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`)

mkdirSync(RUN_DIR, { recursive: true })
const t0 = performance.now()
log(`dromedary reliability suite (${quick ? 'quick' : 'full'}), Node ${process.version}, scratch ${RUN_DIR}`)
if (await ensureBrokerRunning()) log('RabbitMQ was not running: started it')

const rows = []
let failed = false
for (const name of selected) {
  const scenario = (await import(`./scenarios/${name}.mjs`)).default
  const started = performance.now()
  log(`${scenario.name}:`)
  let result
  try {
    result = await scenario.run({ quick, log })
  } catch (err) {
    log(`  ${scenario.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    result = [failedRow(scenario.name, scenario.graceful ?? null, err)]
  }
  // Every scenario leaves the broker running and no process behind, even one that failed half-way.
  const left = await killLeftovers()
  if (left > 0) {
    log(`  ${scenario.name} left ${left} app process(es) running: killed`)
    for (const r of result) {
      r.passed = false
      r.notes += `; left ${left} process(es) running`
    }
  }
  if (await ensureBrokerRunning().catch(() => false))
    log(`  ${scenario.name} left RabbitMQ stopped: restarted it`)
  for (const r of result) {
    failed ||= !r.passed
    log(`  → ${r.scenario}: ${r.passed ? 'PASS' : 'FAIL'} ${r.notes}`)
  }
  rows.push(...result)
  log(`  ${scenario.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

const file = new URL('./results/latest.json', import.meta.url)
writeResults(file, rows)
console.log(formatTable(rows))
log(
  `\n${rows.filter((r) => r.passed).length}/${rows.length} passed in ${((performance.now() - t0) / 1000).toFixed(0)} s; wrote test/reliability/results/latest.json`,
)
if (failed || keepLogs) log(`app logs kept in ${LOG_DIR}`)
else rmSync(RUN_DIR, { recursive: true, force: true })
process.exitCode = failed ? 1 : 0
