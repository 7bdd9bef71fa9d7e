// The hand-rolled side of core-direct-handrolled: the three functions of core-direct-sync plus what a user
// writes by hand for the guarantees our route gives (what a competent user writes, not a strawman):
// - an in-flight counter, so a graceful stop waits for the exchanges that are running (and refuses new ones);
// - a prom-client Histogram of durations and a Counter of messages by outcome, labelled by context and route
//   like ours, with the same buckets, the label sets bound once (`.labels()`) and not per message;
// - one performance.now() before and one after the work, in seconds for the histogram.
import { importDependencyOf } from '../lib/deps.mjs'
import { check, price, tax } from '../lib/work.mjs'

// The prom-client build @dromedary/core uses.
const { Counter, Histogram, Registry } = await importDependencyOf('core', 'prom-client')

/** Our `exchange_duration_seconds` buckets, so both sides sort each observation into the same ten. */
const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30]

/** Returns `{ handle, stop, registry }`: `handle(order)` runs one message, `stop()` drains gracefully. */
export function handRolled({ context = 'bench', route = 'orders' } = {}) {
  const registry = new Registry()
  const registers = [registry]
  const duration = new Histogram({
    name: 'exchange_duration_seconds',
    help: 'Message processing time',
    labelNames: ['context', 'route'],
    buckets: BUCKETS,
    registers,
  })
  const messages = new Counter({
    name: 'exchanges_total',
    help: 'Messages processed, by outcome',
    labelNames: ['context', 'route', 'outcome'],
    registers,
  })
  const observe = duration.labels({ context, route })
  const completed = messages.labels({ context, route, outcome: 'completed' })
  const failed = messages.labels({ context, route, outcome: 'failed' })

  let inflight = 0
  let stopping = false
  let drained = () => {}

  const handle = async (order) => {
    if (stopping) throw new Error('stopping: not accepting messages')
    inflight++
    const start = performance.now()
    try {
      price(order)
      tax(order)
      check(order)
      completed.inc()
      return order
    } catch (err) {
      failed.inc()
      throw err
    } finally {
      observe.observe((performance.now() - start) / 1000)
      if (--inflight === 0 && stopping) drained()
    }
  }

  const stop = async () => {
    stopping = true
    if (inflight > 0) await new Promise((resolve) => (drained = resolve))
  }
  return { handle, stop, registry }
}
