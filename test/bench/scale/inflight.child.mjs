// One sample of scale-inflight: `exchanges` exchanges sent into a `direct:` route that delays each by
// `delayMs`, so all of them are in flight at once; then a graceful `stop()`.
// - heap per in-flight exchange: JS heap in use (after full GCs) with all of them in flight, minus before,
//   divided by their number. It counts everything the in-flight state costs: the exchange, its tracking,
//   its delay timer and the promise its sender awaits (and the driver's body, on both sides alike).
// - overhead: ms from the last exchange finishing to `stop()` resolving.
// Ours runs 100,000; the baseline 1,000, with the overhead multiplied by 100 (linear extrapolation).
import { getHeapStatistics } from 'node:v8'
import { createContext } from '@dromedary/core'
import { params, reportResult } from '../lib/child.mjs'

const { exchanges, delayMs, warmupExchanges } = params()

function heapUsed() {
  globalThis.gc()
  globalThis.gc()
  return getHeapStatistics().used_heap_size
}

async function run(n, delay) {
  let lastFinish = 0
  const ctx = createContext({ logger: false })
  ctx.addRoutes((r) =>
    r
      .from('direct:slow')
      .delay(delay)
      .process(() => {
        lastFinish = performance.now()
      }),
  )
  await ctx.start()
  const producer = ctx.producer()
  const before = heapUsed()
  const sent = performance.now()
  let failed = 0
  for (let i = 0; i < n; i++) {
    void producer.send('direct:slow', { order: i }).then((ex) => {
      if (ex.exception !== undefined) failed++
    })
  }
  const after = heapUsed()
  // Every exchange must still be waiting in its delay when the heap is read, and when stop() begins.
  const elapsed = performance.now() - sent
  if (ctx.inflight.size() !== n || elapsed > delay * 0.8)
    throw new Error(`${ctx.inflight.size()} of ${n} in flight after ${elapsed.toFixed(0)} ms; raise delayMs`)
  const report = await ctx.stop()
  const overheadMs = performance.now() - lastFinish
  if (!report.graceful || failed > 0) throw new Error(`stop was not graceful (${failed} exchanges failed)`)
  return { overheadMs, heapBytesPerExchange: (after - before) / n }
}

await reportResult(async () => {
  await run(warmupExchanges, 250) // JIT warm-up, the same on both sides
  return run(exchanges, delayMs)
})
