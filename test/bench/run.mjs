// Benchmarks: every row runs ours and the raw baseline alternately, one fresh process per sample, and reports
// the median of the per-pair ratios against its target. See docs/benchmarks.md.
//   pnpm bench                 full run (~11 min on 2 cores)
//   pnpm bench -- --quick      smaller sizes, 5 pairs (< 5 min)
//   pnpm bench -- --only=core,http   only the benchmarks whose name starts with one of these
import { amqpConsume, amqpConsumeInbox, amqpConsumeRascal, amqpPublish } from './amqp/amqp.mjs'
import { coreAlloc, coreDirectHandrolled, coreDirectSync, coreSedaAsync } from './core/core.mjs'
import { httpGet } from './http/http.mjs'
import { natsConsume } from './nats/nats.mjs'
import { idempotentRedis, redisConsume } from './redis/redis.mjs'
import { failedRow, formatTable, toRow, writeResults } from './lib/report.mjs'
import { round } from './lib/stats.mjs'
import { scaleInflight, scaleRoutes } from './scale/scale.mjs'
import { shutdownForceScale, shutdownLatency } from './shutdown/shutdown.mjs'
import { amqpConsumeTracing } from './tracing/tracing.mjs'

const BENCHMARKS = [
  coreDirectSync,
  coreDirectHandrolled,
  coreSedaAsync,
  coreAlloc,
  httpGet,
  amqpConsume,
  amqpConsumeRascal,
  amqpPublish,
  amqpConsumeInbox,
  amqpConsumeTracing,
  natsConsume,
  redisConsume,
  idempotentRedis,
  shutdownLatency,
  shutdownForceScale,
  scaleRoutes,
  scaleInflight,
]

const args = process.argv.slice(2).filter((a) => a !== '--')
const quick = args.includes('--quick')
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const selected = BENCHMARKS.filter((b) => only === undefined || only.some((o) => b.name.startsWith(o)))
const log = (msg) => process.stderr.write(`${msg}\n`)

/**
 * Runs one benchmark: a warm-up pair (discarded), then `pairs` pairs, alternating which side goes first.
 * Benchmarks whose children warm up before measuring (`warmsUpInChild`) skip the warm-up pair: a fresh
 * process per sample has nothing else to warm.
 */
async function runBenchmark(bench) {
  const config = quick ? bench.quick : bench.full
  const pairs = []
  const started = performance.now()
  try {
    await bench.before?.(config)
    for (let i = bench.warmsUpInChild === true ? 1 : 0; i <= config.pairs; i++) {
      const order = i % 2 === 0 ? ['ours', 'baseline'] : ['baseline', 'ours']
      const pair = {}
      for (const side of order) pair[side] = await bench.sample(side, config)
      const label = i === 0 ? 'warm-up' : `pair ${i}/${config.pairs}`
      log(`  ${bench.name} ${label}: ${describe(pair)}`)
      if (i > 0) pairs.push(pair)
    }
  } catch (err) {
    log(`  ${bench.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    const note = err instanceof Error ? err.message.split('\n')[0] : String(err)
    return bench.rows.map((spec) => failedRow(spec, note))
  } finally {
    await bench.after?.(config).catch((err) => log(`  ${bench.name} clean-up failed: ${String(err)}`))
    log(`  ${bench.name} took ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
  return bench.rows.map((spec) => toRow(spec, pairs))
}

function describe(pair) {
  return Object.keys(pair.ours)
    .map((k) => `${k} ours ${round(pair.ours[k], 4)} / baseline ${round(pair.baseline[k], 4)}`)
    .join('; ')
}

const t0 = performance.now()
log(`dromedary benchmarks (${quick ? 'quick' : 'full'}), Node ${process.version}`)
const rows = []
for (const bench of selected) {
  log(`${bench.name}:`)
  rows.push(...(await runBenchmark(bench)))
}
const file = new URL('./results/latest.json', import.meta.url)
writeResults(file, rows)
console.log(formatTable(rows))
log(
  `\n${rows.filter((r) => r.met).length}/${rows.length} targets met in ${((performance.now() - t0) / 1000).toFixed(0)} s; wrote test/bench/results/latest.json`,
)
