// One sample of shutdown-latency: `trials` times, a context with `routes` seda routes gets one exchange per
// route (each route delays it 1–20 ms, drawn per trial), `stop()` is called at once, and we record the time
// from the last exchange finishing to `stop()` resolving. The sample is the p99 over the trials.
// ours:     the DefaultShutdownStrategy (event-driven drain).
// baseline: the same contexts with PollingShutdownStrategy (Camel's check-then-sleep-1-s loop). Its trials
//           overlap, started `staggerMs` apart, only to bound the wall time: each one spends ~1 s asleep in
//           its own loop, and the stagger keeps their wake-ups from landing on the event loop together.
//           Ours run one after the other, so no trial's work delays another's measurement.
import { createContext } from '@dromedary/core'
import { params, reportResult } from '../lib/child.mjs'
import { percentile } from '../lib/stats.mjs'
import { PollingShutdownStrategy } from './polling-shutdown-strategy.mjs'

const { side, trials, routes, staggerMs } = params()

async function trial() {
  let lastFinish = 0
  const ctx = createContext({
    logger: false,
    ...(side === 'baseline' ? { shutdownStrategy: new PollingShutdownStrategy() } : {}),
  })
  ctx.addRoutes((r) => {
    for (let i = 0; i < routes; i++) {
      r.from(`seda:work${i}`)
        .delay(1 + Math.floor(Math.random() * 20))
        .process(() => {
          lastFinish = performance.now()
        })
    }
  })
  await ctx.start()
  const producer = ctx.producer()
  for (let i = 0; i < routes; i++) {
    const ex = await producer.send(`seda:work${i}`, i)
    if (ex.exception !== undefined) throw ex.exception
  }
  const report = await ctx.stop()
  const latency = performance.now() - lastFinish
  if (!report.graceful || lastFinish === 0) throw new Error('the shutdown was not graceful')
  return latency
}

await reportResult(async () => {
  await trial() // warm-up
  const latencies = []
  if (side === 'ours') for (let i = 0; i < trials; i++) latencies.push(await trial())
  else {
    const running = []
    for (let i = 0; i < trials; i++) {
      running.push(trial())
      await new Promise((resolve) => setTimeout(resolve, staggerMs))
    }
    latencies.push(...(await Promise.all(running)))
  }
  return { p99Ms: percentile(latencies, 99) }
})
