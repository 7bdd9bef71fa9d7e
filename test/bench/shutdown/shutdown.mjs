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
