// One sample of shutdown-force-scale: `routes` direct routes each hold `perRoute` exchanges in flight (a
// long delay step that honours its abort signal); then `forceStop()`. The sample is the time from calling
// forceStop() to it resolving, with every exchange aborted and every sender answered.
// ours:     1000 routes × 100 exchanges.
// baseline: the same 100,000 exchanges in flight on 1 route. Equal in-flight work, so the ratio shows what
//           the number of routes adds to forcing (it used to be a scan of every exchange per route).
import { createContext } from '@dromedary/core'
import { params, reportResult } from '../lib/child.mjs'

const { routes, perRoute, warmupRoutes, warmupPerRoute } = params()
const HOLD_MS = 600_000 // far longer than any sample: only the forced stop ends these exchanges

async function forceStopWith(nRoutes, nPerRoute) {
  const ctx = createContext({ logger: false })
  ctx.addRoutes((r) => {
    for (let i = 0; i < nRoutes; i++) r.from(`direct:hold${i}`).routeId(`hold${i}`).delay(HOLD_MS)
  })
  await ctx.start()
  const producer = ctx.producer()
  const total = nRoutes * nPerRoute
  let aborted = 0
  const answered = []
  for (let i = 0; i < nRoutes; i++)
    for (let k = 0; k < nPerRoute; k++)
      answered.push(
        producer.send(`direct:hold${i}`, k).then((ex) => {
          if (ex.exception !== undefined) aborted++
        }),
      )
  if (ctx.inflight.size() !== total)
    throw new Error(`${ctx.inflight.size()} of ${total} exchanges in flight before forceStop()`)
  const start = performance.now()
  const report = await ctx.forceStop()
  const ms = performance.now() - start
  await Promise.all(answered)
  const reported = report.routes.reduce((sum, r) => sum + r.aborted, 0)
  if (!report.forced || aborted !== total || reported !== total)
    throw new Error(
      `forced ${report.forced}: ${aborted} senders saw an abort, report says ${reported}, of ${total}`,
    )
  return ms
}

await reportResult(async () => {
  await forceStopWith(warmupRoutes, warmupPerRoute) // the same JIT warm-up on both sides
  return { forceStopMs: await forceStopWith(routes, perRoute) }
})
