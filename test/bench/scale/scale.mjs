// Scale benchmarks: ours at full size against the same work at a tenth or a hundredth, scaled up linearly.
import { runOnce } from '../lib/child.mjs'

const routesScript = new URL('./routes.child.mjs', import.meta.url)
const inflightScript = new URL('./inflight.child.mjs', import.meta.url)

export const scaleRoutes = {
  name: 'scale-routes',
  warmsUpInChild: true,
  rows: [{ name: 'scale-routes', unit: 's', metric: 'seconds', better: 'lower', target: 1.2 }],
  quick: { pairs: 5, routes: 10_000, factor: 10, warmupRoutes: 1_000 },
  full: { pairs: 9, routes: 10_000, factor: 10, warmupRoutes: 1_000 },
  async sample(side, c) {
    const routes = side === 'ours' ? c.routes : c.routes / c.factor
    const { seconds } = await runOnce(routesScript, { routes, warmupRoutes: c.warmupRoutes })
    return { seconds: side === 'ours' ? seconds : seconds * c.factor }
  },
}

export const scaleInflight = {
  name: 'scale-inflight',
  warmsUpInChild: true,
  rows: [
    { name: 'scale-inflight-overhead', unit: 'ms', metric: 'overheadMs', better: 'lower', target: 1.2 },
    {
      name: 'scale-inflight-heap',
      unit: 'bytes/exchange',
      metric: 'heapBytesPerExchange',
      better: 'lower',
      target: 1.2,
    },
  ],
  quick: {
    pairs: 5,
    exchanges: 100_000,
    factor: 100,
    delayMs: 4000,
    baselineDelayMs: 500,
    warmupExchanges: 1_000,
  },
  full: {
    pairs: 9,
    exchanges: 100_000,
    factor: 100,
    delayMs: 4000,
    baselineDelayMs: 500,
    warmupExchanges: 1_000,
  },
  async sample(side, c) {
    const exchanges = side === 'ours' ? c.exchanges : c.exchanges / c.factor
    // The delay only has to outlast sending and the heap reading (the child checks it did); neither figure
    // depends on its length, so the small run does not wait as long.
    const delayMs = side === 'ours' ? c.delayMs : c.baselineDelayMs
    const r = await runOnce(
      inflightScript,
      { exchanges, delayMs, warmupExchanges: c.warmupExchanges },
      { execArgv: ['--expose-gc'] },
    )
    // Per-exchange heap is already normalised; the overhead of the small run is extrapolated linearly.
    return side === 'ours' ? r : { ...r, overheadMs: r.overheadMs * c.factor }
  },
}
