import { createShaperApp } from './app.js'

// `pnpm --filter async-workers start`: generates traffic from three callers, shapes it per caller with a
// leaky bucket, relays it on a worker group, prints what happens and exits once everything is done.
// With PORT set it also accepts `POST /calls {"from":"dave","to":"erin"}` and runs until Ctrl-C / SIGTERM.
const env = process.env
const port = env.PORT === undefined ? undefined : Number(env.PORT)
const traffic = Number(env.TRAFFIC ?? 30)
const bucket = {
  ratePerSecond: Number(env.RATE_PER_SECOND ?? 5),
  burst: Number(env.BURST ?? 3),
  maxDelayMs: Number(env.MAX_DELAY_MS ?? 2000),
}
const { ctx, summary } = createShaperApp({
  traffic,
  trafficPeriodMs: Number(env.TRAFFIC_PERIOD_MS ?? 50),
  relayMs: Number(env.RELAY_MS ?? 100),
  port,
  bucket,
})
ctx.events$.subscribe((e) => {
  if (e.type !== 'context-started') return
  const intake =
    port === undefined ? 'exits when done' : `POST http://127.0.0.1:${port}/calls, Ctrl-C to stop`
  ctx.logger.info(
    {},
    `Shaper ready: ${traffic} generated calls from alice, bob and carol, each caller shaped to ${bucket.ratePerSecond}/s (burst ${bucket.burst}, max delay ${bucket.maxDelayMs} ms); ${intake}`,
  )
})
// Every request is relayed or rejected by now: print the per-caller result.
ctx.onShutdownNow(() => {
  for (const line of summary()) ctx.logger.info({}, line)
})
await ctx.run()
