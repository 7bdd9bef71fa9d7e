// The shutdown-latency baseline: Camel's DefaultShutdownStrategy drain loop, as a Dromedary ShutdownStrategy
// so that everything but the waiting is the same code as ours. Camel checks the in-flight count, and while it
// is not zero sleeps one second and checks again (ShutdownTask: `Thread.sleep(1000)` between checks).

const POLL_MS = 1000
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export class PollingShutdownStrategy {
  async shutdown(ctx, options) {
    const start = ctx.clock.now()
    const routes = ctx.routes
    await ctx.notice(Math.ceil(options.timeoutMs / 1000))
    for (const r of routes) await r.prepareShutdown({ forced: false })
    const deadline = start + options.timeoutMs
    let timedOut = false
    for (;;) {
      let left = 0
      for (const r of routes) left += r.inflight() + r.pending()
      if (left === 0) break
      if (ctx.clock.now() >= deadline) {
        timedOut = true
        break
      }
      await sleep(POLL_MS)
    }
    const stopped = []
    for (const r of routes) {
      await r.stop({ forced: timedOut })
      stopped.push({
        id: r.id,
        inflightAtStart: 0,
        pendingAtStart: 0,
        aborted: r.aborted(),
        forced: timedOut,
        stoppedAtMs: ctx.clock.now() - start,
      })
    }
    await ctx.now(ctx.nowBudgetMs, timedOut)
    const end = ctx.clock.now()
    return { graceful: !timedOut, forced: timedOut, timedOut, durationMs: end - start, routes: stopped }
  }
}
