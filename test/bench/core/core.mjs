// Core engine benchmarks: a route against the same functions called by hand, in the same process shape.
import { runOnce } from '../lib/child.mjs'

const directSync = new URL('./direct-sync.child.mjs', import.meta.url)
const sedaAsync = new URL('./seda-async.child.mjs', import.meta.url)

export const coreDirectSync = {
  name: 'core-direct-sync',
  warmsUpInChild: true,
  rows: [
    {
      name: 'core-direct-sync',
      unit: 'exchanges/s',
      metric: 'exchangesPerSecond',
      better: 'higher',
      // Reset from 0.7: a route that tracks, times and counts each exchange against three bare calls.
      target: 0.3,
    },
  ],
  quick: { pairs: 5, warmupMs: 300, durationMs: 700 },
  full: { pairs: 9, warmupMs: 1000, durationMs: 2000 },
  sample: (side, c) =>
    runOnce(directSync, { side, mode: 'rate', warmupMs: c.warmupMs, durationMs: c.durationMs }),
}

// The same route against the same functions plus the in-flight counter and prom-client metrics a user would
// write by hand for the same guarantees (handrolled.mjs). Same child, same sizes as core-direct-sync.
export const coreDirectHandrolled = {
  name: 'core-direct-handrolled',
  warmsUpInChild: true,
  rows: [
    {
      name: 'core-direct-handrolled',
      unit: 'exchanges/s',
      metric: 'exchangesPerSecond',
      better: 'higher',
      target: 1.5,
    },
  ],
  quick: coreDirectSync.quick,
  full: coreDirectSync.full,
  sample: (side, c) =>
    runOnce(directSync, {
      side: side === 'ours' ? 'ours' : 'handrolled',
      mode: 'rate',
      warmupMs: c.warmupMs,
      durationMs: c.durationMs,
    }),
}

export const coreSedaAsync = {
  name: 'core-seda-async',
  warmsUpInChild: true,
  rows: [
    {
      name: 'core-seda-async',
      unit: 'exchanges/s',
      metric: 'exchangesPerSecond',
      better: 'higher',
      target: 0.6,
    },
  ],
  quick: { pairs: 5, warmupCount: 20_000, count: 100_000 },
  full: { pairs: 9, warmupCount: 50_000, count: 200_000 },
  sample: (side, c) => runOnce(sedaAsync, { side, warmupCount: c.warmupCount, count: c.count }),
}

// A 64 MiB young generation leaves room for the measured window to allocate without any collection, and
// --expose-gc lets the child collect right before it (see bytesPerExchange in direct-sync.child.mjs).
const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64']

export const coreAlloc = {
  name: 'core-alloc',
  warmsUpInChild: true,
  rows: [
    {
      name: 'core-alloc',
      unit: 'bytes/exchange',
      metric: 'bytesPerExchange',
      better: 'lower',
      target: 2.5,
    },
  ],
  quick: { pairs: 5, warmupMs: 300, allocExchanges: 10_000 },
  full: { pairs: 9, warmupMs: 1000, allocExchanges: 20_000 },
  sample: (side, c) =>
    runOnce(
      directSync,
      { side, mode: 'alloc', warmupMs: c.warmupMs, allocExchanges: c.allocExchanges },
      { execArgv: ALLOC_FLAGS },
    ),
}
