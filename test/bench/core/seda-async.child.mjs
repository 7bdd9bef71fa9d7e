// One sample of core-seda-async (exchanges/s).
// ours:     a `seda:` route with concurrentConsumers=100 and three async process steps; a loop sends `count`
//           orders through the ProducerTemplate into the queue (size 1000, blockWhenFull: the sender waits
//           for space, as a real producer would), and the clock stops when all have completed.
// baseline: the same orders in an array, drained by 100 async workers that await the same three functions.
import { createContext } from '@dromedary/core'
import { params, reportResult } from '../lib/child.mjs'
import { checkAsync, newOrder, priceAsync, taxAsync } from '../lib/work.mjs'

const { side, warmupCount, count } = params()
const CONCURRENCY = 100

async function setUp() {
  if (side === 'baseline') {
    const run = async (n) => {
      const queue = []
      for (let i = 0; i < n; i++) queue.push(newOrder(i))
      let next = 0
      let done = 0
      const worker = async () => {
        while (next < queue.length) {
          const order = queue[next++]
          await priceAsync(order)
          await taxAsync(order)
          await checkAsync(order)
          if (order.valid === true) done++
        }
      }
      await Promise.all(Array.from({ length: CONCURRENCY }, worker))
      return done
    }
    return { run, stop: async () => {} }
  }
  let done = 0
  let target = 0
  let finished = () => {}
  const ctx = createContext({ logger: false })
  ctx.addRoutes((r) =>
    r
      .from(`seda:orders?concurrentConsumers=${CONCURRENCY}&size=1000&blockWhenFull=true`)
      .process((ex) => priceAsync(ex.message.body))
      .process((ex) => taxAsync(ex.message.body))
      .process((ex) => checkAsync(ex.message.body))
      .process((ex) => {
        if (ex.message.body.valid === true && ++done === target) finished()
      }),
  )
  await ctx.start()
  const producer = ctx.producer()
  const run = async (n) => {
    done = 0
    target = n
    const allDone = new Promise((resolve) => (finished = resolve))
    for (let i = 0; i < n; i++) {
      const ex = await producer.send('seda:orders', newOrder(i))
      if (ex.exception !== undefined) throw ex.exception
    }
    await allDone
    await ctx.inflight.whenEmpty() // the last exchanges' bookkeeping after their last step
    return done
  }
  return { run, stop: () => ctx.stop() }
}

await reportResult(async () => {
  const { run, stop } = await setUp()
  await run(warmupCount)
  const start = performance.now()
  const done = await run(count)
  const seconds = (performance.now() - start) / 1000
  if (done !== count) throw new Error(`${done} of ${count} exchanges completed`)
  await stop()
  return { exchangesPerSecond: count / seconds }
})
