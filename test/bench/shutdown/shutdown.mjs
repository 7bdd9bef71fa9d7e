// shutdown-latency: the event-driven drain against Camel's 1 s polling loop, same contexts and routes.
import { runOnce } from '../lib/child.mjs'

const latency = new URL('./latency.child.mjs', import.meta.url)

export const shutdownLatency = {
  name: 'shutdown-latency',
  warmsUpInChild: true,
  rows: [{ name: 'shutdown-latency', unit: 'p99 ms', metric: 'p99Ms', better: 'lower', target: 0.01 }],
  quick: { pairs: 5, trials: 100, routes: 50, staggerMs: 10 },
  full: { pairs: 9, trials: 100, routes: 50, staggerMs: 10 },
  sample: (side, c) => runOnce(latency, { side, trials: c.trials, routes: c.routes, staggerMs: c.staggerMs }),
}

const forceScale = new URL('./force-scale.child.mjs', import.meta.url)

// shutdown-force-scale: forceStop() with 100,000 exchanges in flight over 1000 routes, against the same
// 100,000 on one route. Forcing is O(in-flight): the ratio stays near 1 however many routes hold them.
export const shutdownForceScale = {
  name: 'shutdown-force-scale',
  warmsUpInChild: true,
  rows: [{ name: 'shutdown-force-scale', unit: 'ms', metric: 'forceStopMs', better: 'lower', target: 1.5 }],
  quick: { pairs: 5, routes: 1000, perRoute: 100, warmupRoutes: 10, warmupPerRoute: 100 },
  full: { pairs: 9, routes: 1000, perRoute: 100, warmupRoutes: 10, warmupPerRoute: 100 },
  sample: (side, c) =>
    runOnce(forceScale, {
      routes: side === 'ours' ? c.routes : 1,
      perRoute: side === 'ours' ? c.perRoute : c.routes * c.perRoute,
      warmupRoutes: c.warmupRoutes,
      warmupPerRoute: c.warmupPerRoute,
    }),
}
