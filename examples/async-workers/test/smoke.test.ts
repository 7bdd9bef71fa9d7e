import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureBuilt,
  freePort,
  shutdownLines,
  startExample,
  type ExampleProcess,
} from '../../../test/support/example-process.js'

const ROUTES = ['relay', 'accounting', 'tkv', 'shaper', 'traffic']
let app: ExampleProcess | undefined

beforeAll(() => ensureBuilt('async-workers'), 120_000)
afterEach(() => app?.kill())

describe('examples/async-workers', () => {
  it('shapes, relays and accounts the generated calls, emits tkv events, and exits 0 on its own', async () => {
    app = startExample('async-workers', { TRAFFIC: '20' })
    const exit = await app.exited

    expect(exit, app.output()).toEqual({ code: 0, signal: null })
    const msgs = app.lines.map((l) => l.msg)
    expect(
      msgs.some((m) => /^Relayed call #\d+ alice -> carol after a [1-9]\d* ms shaping delay$/.test(m)),
    ).toBe(true)
    expect(msgs).toContain("tkv event 8000 / call / caller='bob';callee='alice'")
    // Every generated call is accounted for: relayed (accounting task data) or rejected by the bucket.
    const callers = msgs.filter((m) => m.startsWith('Caller '))
    const total = callers.reduce((n, m) => n + Number(/: (\d+) requests/.exec(m)?.[1]), 0)
    const settled = callers.reduce((n, m) => {
      const [, relayed, rejected] = /(\d+) relayed, (\d+) rejected/.exec(m) ?? []
      return n + Number(relayed) + Number(rejected)
    }, 0)
    expect([total, settled]).toEqual([20, 20])
    const { summary, stopped } = shutdownLines(app, ROUTES)
    expect(summary?.msg, app.output()).toMatch(/^Graceful shutdown of 5 routes/)
    expect(stopped).toEqual(ROUTES)
  })

  it('accepts a call over HTTP, relays it, and drains gracefully on SIGTERM', async () => {
    const port = await freePort()
    app = startExample('async-workers', { PORT: String(port), TRAFFIC: '3' })
    await app.waitForLine((l) => l.msg.startsWith('Shaper ready'))

    const res = await fetch(`http://127.0.0.1:${port}/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'dave', to: 'erin' }),
    })
    await app.waitForLine((l) => /^Relayed call #\d+ dave -> erin/.test(l.msg))
    app.child.kill('SIGTERM')
    const exit = await app.exited

    expect(res.status).toBe(202)
    expect(exit, app.output()).toEqual({ code: 0, signal: null })
    const { summary, stopped } = shutdownLines(app, [...ROUTES, 'intake'])
    expect(summary?.msg, app.output()).toMatch(/^Graceful shutdown of 6 routes/)
    expect(stopped).toEqual([...ROUTES, 'intake'])
  })
})
