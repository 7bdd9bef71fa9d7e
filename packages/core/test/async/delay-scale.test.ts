import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { deferred, disposeContexts, newContext } from '../support.js'

// A full GC before each heap reading, so the figures are live memory and not garbage not yet collected.
setFlagsFromString('--expose_gc')
const gc = runInNewContext('gc') as () => void

afterEach(disposeContexts)

interface Measurement {
  readonly n: number
  /** Wall time from resuming the consumer until all `n` exchanges were waiting in the delay, in ms. */
  readonly scheduleMs: number
  /** CPU time (user + system) spent scheduling and draining, the forced GC excluded, in ms. */
  readonly cpuMs: number
  readonly cpuUsPerExchange: number
  readonly heapBytesPerExchange: number
}

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}

/**
 * Queues `n` messages for a suspended single-consumer seda route that delays each by `delayMs`, then resumes
 * it: the consumer takes them all (each delay frees its slot), so all `n` are in flight at once. Measures the
 * heap they hold and the CPU time the engine spends scheduling and draining them. CPU time, not wall time,
 * so the delay itself and other processes on the machine do not count.
 */
async function measure(n: number, delayMs: number): Promise<Measurement> {
  const ctx = newContext({ metrics: false })
  const entered = deferred()
  let seen = 0
  let done = 0
  await ctx.addRoutes((r) =>
    r
      .from(`seda:shape?size=${n}`)
      .routeId('shape')
      .process(() => {
        if (++seen === n) entered.resolve()
      })
      .delay(delayMs)
      .process(() => {
        done++
      }),
  )
  await ctx.start()
  await ctx.suspendRoute('shape')
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  const producer = ctx.producer()
  for (let i = 0; i < n; i++) await producer.send('seda:shape', i)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await ctx.resumeRoute('shape')
  await entered.promise
  const scheduleMs = performance.now() - t0
  // All n must still be waiting, or the heap reading would miss some: the delay must outlast scheduling.
  expect(ctx.inflight.size('shape'), `scheduling took ${scheduleMs.toFixed(0)} ms > delay`).toBe(n)
  const gcStart = process.cpuUsage()
  gc()
  const heapInflight = process.memoryUsage().heapUsed - heapBefore
  const gcCpuMs = cpuMsSince(gcStart)
  await ctx.inflight.whenEmpty()
  const cpuMs = cpuMsSince(cpu0) - gcCpuMs
  expect(done).toBe(n)
  await ctx.stop()
  return {
    n,
    scheduleMs,
    cpuMs,
    cpuUsPerExchange: (cpuMs * 1000) / n,
    heapBytesPerExchange: heapInflight / n,
  }
}

function describeMeasurement(m: Measurement): string {
  return `n=${m.n}: all in flight after ${m.scheduleMs.toFixed(0)} ms wall, schedule+drain ${m.cpuMs.toFixed(0)} ms CPU (${m.cpuUsPerExchange.toFixed(1)} µs/exchange), heap ${m.heapBytesPerExchange.toFixed(0)} B/exchange in flight`
}

describe('delay at scale (no per-tick scan of all timers)', () => {
  it('keeps CPU time and heap per delayed exchange flat from 10,000 to 100,000 exchanges in flight', async () => {
    await measure(2000, 300) // warm the JIT so the small run is not penalised
    const small = await measure(10_000, 500)
    // The delay must outlast scheduling 10x as many on this machine, however loaded it is.
    const large = await measure(100_000, Math.min(6000, Math.max(1500, Math.ceil(small.scheduleMs * 25))))

    console.log(`delay scale: ${describeMeasurement(small)}; ${describeMeasurement(large)}`)
    console.log(
      `delay scale ratios (100k / 10k, per exchange): CPU ${(large.cpuUsPerExchange / small.cpuUsPerExchange).toFixed(2)}x, heap ${(large.heapBytesPerExchange / small.heapBytesPerExchange).toFixed(2)}x`,
    )
    expect(large.cpuUsPerExchange / small.cpuUsPerExchange).toBeLessThan(3)
    expect(large.heapBytesPerExchange / small.heapBytesPerExchange).toBeLessThan(3)
  })
})
