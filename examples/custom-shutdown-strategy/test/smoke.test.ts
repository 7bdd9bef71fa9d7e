import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureBuilt,
  freePort,
  shutdownLines,
  startExample,
  type ExampleProcess,
} from '../../../test/support/example-process.js'

let app: ExampleProcess | undefined

beforeAll(() => ensureBuilt('custom-shutdown-strategy'), 120_000)
afterEach(() => app?.kill())

describe('examples/custom-shutdown-strategy', () => {
  it('accepts a report, then on SIGTERM drains the HTTP tier before the background tier and exits 0', async () => {
    const port = await freePort()
    app = startExample('custom-shutdown-strategy', { PORT: String(port), RENDER_MS: '1200' })
    await app.waitForLine((l) => l.msg.startsWith('Reports app ready'))

    const res = await fetch(`http://127.0.0.1:${port}/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'smoke' }),
    })
    const body = (await res.json()) as { id?: string }
    await app.waitForLine((l) => l.msg.startsWith('Rendering report'))
    app.child.kill('SIGTERM')
    const exit = await app.exited

    expect([res.status, body.id]).toEqual([202, 'rep-1'])
    expect(exit, app.output()).toEqual({ code: 0, signal: null })
    const msgs = app.lines.map((l) => l.msg)
    const at = (prefix: string) => msgs.findIndex((m) => m.startsWith(prefix))
    // Frontend drained and stopped first, then the background tier finished the render it had accepted.
    expect(at('Tier frontend: drained')).toBeGreaterThan(-1)
    expect(at('Tier frontend: drained')).toBeLessThan(
      at('Tier background: waiting as there are still 1 inflight'),
    )
    // The last lines before exit may arrive out of order (pino's default stdout stream writes
    // asynchronously and flushes the rest synchronously at exit), so these two compare by log time.
    const time = (prefix: string) => app!.lines.find((l) => l.msg.startsWith(prefix))?.time
    expect(time('Stored report'), app.output()).toBeTypeOf('number')
    expect(time('Stored report'), app.output()).toBeLessThanOrEqual(
      time('Tier background: drained') as number,
    )
    const { summary, stopped } = shutdownLines(app, ['api', 'status', 'render', 'store'])
    expect(summary?.msg, app.output()).toMatch(/^Graceful shutdown of 4 routes/)
    expect(stopped).toEqual(['api', 'status', 'render', 'store'])
  })
})
