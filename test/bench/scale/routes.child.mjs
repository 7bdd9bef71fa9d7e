// One sample of scale-routes: the seconds `ctx.start()` + `ctx.stop()` take for `routes` seda routes. Ours
// runs 10,000 routes; the baseline runs 1,000 and is multiplied by 10 (what linear scaling would give), so
// the ratio shows any cost that grows faster than the number of routes.
import { createContext } from '@dromedary/core'
import { params, reportResult } from '../lib/child.mjs'

const { routes, warmupRoutes } = params()

async function startStop(n) {
  const ctx = createContext({ logger: false })
  ctx.addRoutes((r) => {
    for (let i = 0; i < n; i++) r.from(`seda:queue${i}`).process(() => {})
  })
  const start = performance.now()
  await ctx.start()
  const report = await ctx.stop()
  const seconds = (performance.now() - start) / 1000
  if (report.routes.length !== n) throw new Error(`${report.routes.length} of ${n} routes stopped`)
  return seconds
}

await reportResult(async () => {
  await startStop(warmupRoutes) // the same JIT warm-up on both sides
  return { seconds: await startStop(routes) }
})
