// One sample of core-direct-sync (exchanges/s) or core-alloc (bytes allocated per exchange).
// ours:     a `direct:` route with three synchronous process steps, driven through the ProducerTemplate
//           (`ctx.producer().send`), each exchange awaited before the next is sent.
// baseline: an async function calling the same three functions, each call awaited the same way.
// handrolled (core-direct-handrolled's baseline): the same three functions with an in-flight counter and
//           prom-client metrics written by hand (see handrolled.mjs), awaited the same way.
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { createContext } from '@dromedary/core'
import { params, reportResult } from '../lib/child.mjs'
import { median } from '../lib/stats.mjs'
import { check, newOrder, price, tax } from '../lib/work.mjs'
import { handRolled } from './handrolled.mjs'

const { side, mode, warmupMs, durationMs, allocExchanges } = params()

async function setUp() {
  if (side === 'baseline') {
    const handle = async (order) => {
      price(order)
      tax(order)
      check(order)
      return order
    }
    return { handle, resultOf: (order) => order, stop: async () => {} }
  }
  if (side === 'handrolled') {
    const { handle, stop, registry } = handRolled()
    const resultOf = (order) => order
    return { handle, resultOf, stop: () => stop().then(() => checkCounted(registry)) }
  }
  const ctx = createContext({ logger: false })
  ctx.addRoutes((r) =>
    r
      .from('direct:orders')
      .process((ex) => price(ex.message.body))
      .process((ex) => tax(ex.message.body))
      .process((ex) => check(ex.message.body)),
  )
  await ctx.start()
  const producer = ctx.producer()
  const resultOf = (ex) => {
    if (ex.exception !== undefined) throw ex.exception
    return ex.message.body
  }
  return { handle: (order) => producer.send('direct:orders', order), resultOf, stop: () => ctx.stop() }
}

/** The hand-rolled metrics must have counted what ran (a broken binding would make that side look fast). */
async function checkCounted(registry) {
  const [counter] = (await registry.getSingleMetric('exchanges_total').get()).values
  if (!(counter?.value > 0)) throw new Error('the hand-rolled counter counted nothing')
}

/** Sends exchanges one after the other for `ms`; returns how many completed and the last result. */
async function drive(handle, ms) {
  let n = 0
  let last
  const start = performance.now()
  const end = start + ms
  let now
  do {
    for (let k = 0; k < 1000; k++) last = await handle(newOrder(n++))
    now = performance.now()
  } while (now < end)
  return { n, seconds: (now - start) / 1000, last }
}

// Bytes allocated per exchange. V8 exposes no allocation counter, so we make sure no GC can run during the
// measured window: the child runs with a 64 MiB young generation (--min/max-semi-space-size), we collect
// before the window (--expose-gc), send a number of exchanges that allocates far less than that, and read
// the heap's used size before and after. With no collection in between, the growth is exactly what was
// allocated (garbage included). A GC observer checks that none ran in the window; if one did, the
// measurement is thrown away and repeated.
async function bytesPerExchange(handle, count) {
  const gcTimes = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcTimes.push(e.startTime)
  })
  observer.observe({ entryTypes: ['gc'] })
  const results = []
  for (let attempt = 0; results.length < 5 && attempt < 20; attempt++) {
    globalThis.gc()
    const t0 = performance.now()
    const before = getHeapStatistics().used_heap_size
    for (let i = 0; i < count; i++) await handle(newOrder(i))
    const after = getHeapStatistics().used_heap_size
    const t1 = performance.now()
    await new Promise((resolve) => setImmediate(resolve)) // let the observer deliver
    if (gcTimes.some((t) => t >= t0 && t <= t1)) continue
    results.push((after - before) / count)
  }
  observer.disconnect()
  if (results.length === 0) throw new Error('a GC ran in every measurement window; lower allocExchanges')
  return median(results)
}

await reportResult(async () => {
  const { handle, resultOf, stop } = await setUp()
  const warm = await drive(handle, warmupMs)
  if (resultOf(warm.last).valid !== true) throw new Error('the steps did not run')
  let value
  if (mode === 'alloc') value = { bytesPerExchange: await bytesPerExchange(handle, allocExchanges) }
  else {
    const { n, seconds } = await drive(handle, durationMs)
    value = { exchangesPerSecond: n / seconds }
  }
  await stop()
  return value
})
