import { createReportsApp } from './app.js'

// `pnpm --filter custom-shutdown-strategy start`, then POST a few reports and press Ctrl-C:
//   curl -XPOST -H 'content-type: application/json' -d '{"title":"q3"}' http://127.0.0.1:8080/reports
// The HTTP routes drain first (5 s budget), then the renderers (60 s budget).
const env = process.env
const port = Number(env.PORT ?? 8080)
const ctx = createReportsApp({
  port,
  renderMs: Number(env.RENDER_MS ?? 3000),
  frontendTimeoutMs: Number(env.FRONTEND_TIMEOUT_MS ?? 5000),
  backgroundTimeoutMs: Number(env.BACKGROUND_TIMEOUT_MS ?? 60_000),
})
ctx.events$.subscribe((e) => {
  if (e.type === 'context-started')
    ctx.logger.info(
      {},
      `Reports app ready: POST http://127.0.0.1:${port}/reports (Ctrl-C for a tiered shutdown)`,
    )
})
await ctx.run()
