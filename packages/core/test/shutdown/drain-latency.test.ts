import { performance } from 'node:perf_hooks'
import { createContext } from '@dromedary/core'
import { describe, expect, it } from 'vitest'

/** One real-time trial: ms between the last in-flight exchange finishing and stop() resolving. */
async function lagAfterLastExchange(): Promise<number> {
  const ctx = createContext({ logger: false, metrics: false })
  let lastFinished = 0
  await ctx.addRoutes((r) => {
    r.from('seda:work?concurrentConsumers=3')
      .routeId('work')
      .process(async (ex) => {
        await new Promise((resolve) => setTimeout(resolve, ex.message.body as number))
        lastFinished = Math.max(lastFinished, performance.now())
      })
    r.from('direct:call')
      .routeId('call')
      .process(async () => {
        await new Promise((resolve) => setTimeout(resolve, 40))
        lastFinished = Math.max(lastFinished, performance.now())
      })
  })
  await ctx.start()
  for (const ms of [30, 60, 90, 120]) await ctx.producer().send('seda:work', ms)
  void ctx.producer().send('direct:call', null)
  await new Promise((resolve) => setTimeout(resolve, 5))
  const report = await ctx.stop()
  const resolvedAt = performance.now()
  expect(report.graceful).toBe(true)
  expect(lastFinished).toBeGreaterThan(0)
  return resolvedAt - lastFinished
}

describe('drain latency (real time)', () => {
  it('resolves stop() within 20 ms of the last in-flight exchange finishing', async () => {
    const lags: number[] = []
    for (let i = 0; i < 5; i++) lags.push(await lagAfterLastExchange())
    expect(Math.max(...lags)).toBeLessThan(20)
  })
})
