import { createContext, type IntegrationContext, type Logger, type RouteHandle } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { byId, byScheme, TieredShutdownStrategy } from '../src/tiered-shutdown-strategy.js'

// Core-only stand-ins for the example's routes: `web` plays the HTTP-facing route (fed by seda so the
// test needs no sockets) and hands each request on to the background route `jobs`.
interface Request {
  webMs: number
  jobMs: number
}

interface Harness {
  ctx: IntegrationContext
  lines: string[]
  warnings: string[]
}

function createHarness(): Harness {
  const lines: string[] = []
  const warnings: string[] = []
  const push =
    (into: string[][]) =>
    (_obj: unknown, msg?: string): void => {
      for (const list of into) list.push(msg ?? '')
    }
  const logger: Logger = {
    debug: () => undefined,
    info: push([lines]),
    warn: push([lines, warnings]),
    error: push([lines, warnings]),
  }
  const ctx = createContext({
    logger,
    metrics: false,
    shutdownStrategy: new TieredShutdownStrategy({
      tiers: [
        { name: 'frontend', match: byId('web'), timeoutMs: 2000 },
        { name: 'background', timeoutMs: 30_000 },
      ],
    }),
  })
  void ctx.addRoutes((r) => {
    // Background starts first and would stop first under the default strategy; the tiers reverse that.
    r.from<Request>('seda:jobs?concurrentConsumers=10')
      .routeId('jobs')
      .startupOrder(10)
      .delay((ex) => ex.message.body.jobMs)
      .to('mock:done')
    r.from<Request>('seda:web?concurrentConsumers=10')
      .routeId('web')
      .startupOrder(20)
      .delay((ex) => ex.message.body.webMs)
      .to('seda:jobs')
  })
  return { ctx, lines, warnings }
}

/** Lets seda consumers pick up what was just sent (they pull on a microtask). */
const settle = () => vi.advanceTimersByTimeAsync(0)

let h: Harness

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  h = createHarness()
  await h.ctx.start()
})

afterEach(async () => {
  if (h.ctx.status !== 'stopped') {
    const stopped = h.ctx.forceStop()
    await vi.runAllTimersAsync()
    await stopped
  }
  vi.useRealTimers()
})

describe('TieredShutdownStrategy', () => {
  it('stops the frontend tier once drained, then drains and stops the background tier', async () => {
    await h.ctx.producer().send('seda:web', { webMs: 500, jobMs: 5000 })
    await h.ctx.producer().send('seda:web', { webMs: 500, jobMs: 5000 })
    await settle()

    const stopping = h.ctx.stop()
    await vi.advanceTimersByTimeAsync(6000)
    const report = await stopping

    expect(report).toMatchObject({ graceful: true, forced: false, timedOut: false })
    expect(report.routes.map((r) => [r.id, r.forced, r.stoppedAtMs])).toEqual([
      ['web', false, 500],
      ['jobs', false, 5500],
    ])
    expect(h.ctx.mock('done').receivedExchanges).toHaveLength(2)
  })

  it('forces the frontend tier on its own timeout while the background tier still drains gracefully', async () => {
    await h.ctx.producer().send('seda:web', { webMs: 10_000, jobMs: 0 })
    await h.ctx.producer().send('seda:jobs', { webMs: 0, jobMs: 4000 })
    await settle()

    const stopping = h.ctx.stop()
    await vi.advanceTimersByTimeAsync(5000)
    const report = await stopping

    expect(report).toMatchObject({ graceful: false, forced: true, timedOut: true })
    expect(report.routes.map((r) => [r.id, r.forced, r.aborted, r.stoppedAtMs])).toEqual([
      ['web', true, 1, 2000],
      ['jobs', false, 0, 4000],
    ])
    // The aborted frontend request never reached the background tier; the queued job did finish.
    expect(h.ctx.mock('done').receivedExchanges.map((e) => e.message.body)).toEqual([
      { webMs: 0, jobMs: 4000 },
    ])
  })

  it('forces the background tier on its own timeout after the frontend tier drained', async () => {
    await h.ctx.producer().send('seda:web', { webMs: 1000, jobMs: 60_000 })
    await settle()

    const stopping = h.ctx.stop()
    await vi.advanceTimersByTimeAsync(32_000)
    const report = await stopping

    expect(report.routes.map((r) => [r.id, r.forced, r.stoppedAtMs])).toEqual([
      ['web', false, 1000],
      ['jobs', true, 31_000],
    ])
    expect(h.warnings).toContain(
      'Tier background did not drain within 30 s: forcing [jobs] with 1 inflight and 0 pending exchanges',
    )
    expect(
      h.warnings.some((l) => l.startsWith('InflightExchange: [') && l.includes('fromRouteId=jobs')),
    ).toBe(true)
  })

  it('gives the background tier its full budget even after the frontend tier used part of its own', async () => {
    // 1.5 s + 29.5 s = 31 s in total: more than the background budget, but each tier stays within its own.
    await h.ctx.producer().send('seda:web', { webMs: 1500, jobMs: 29_500 })
    await settle()

    const stopping = h.ctx.stop()
    await vi.advanceTimersByTimeAsync(32_000)
    const report = await stopping

    expect(report.graceful).toBe(true)
    expect(report.routes.at(-1)).toMatchObject({ id: 'jobs', forced: false, stoppedAtMs: 31_000 })
  })

  it('logs per-tier progress every second and the SPEC shutdown lines at the end', async () => {
    await h.ctx.producer().send('seda:web', { webMs: 1200, jobMs: 0 })
    await settle()

    const stopping = h.ctx.stop()
    await vi.advanceTimersByTimeAsync(1500)
    await stopping

    const progress = h.lines.filter((l) => l.startsWith('Tier frontend: waiting'))
    expect(progress).toEqual([
      'Tier frontend: waiting as there are still 1 inflight and pending exchanges to complete, timeout in 2 seconds. Inflights per route: [web = 1]',
      'Tier frontend: waiting as there are still 1 inflight and pending exchanges to complete, timeout in 1 seconds. Inflights per route: [web = 1]',
    ])
    expect(h.lines.some((l) => /^Graceful shutdown of 2 routes completed in \d+\.\d{3} s$/.test(l))).toBe(
      true,
    )
    expect(h.lines).toContain('Stopped web (seda://web)')
    expect(h.lines).toContain('Stopped jobs (seda://jobs)')
  })

  it('announces NOTICE with the sum of the tier budgets', async () => {
    const notices: number[] = []
    h.ctx.onShutdownNotice(({ secondsUntilNow }) => {
      notices.push(secondsUntilNow)
    })

    await h.ctx.stop()

    expect(notices).toEqual([32])
  })

  it('forces every remaining tier at once when the shutdown is escalated', async () => {
    await h.ctx.producer().send('seda:web', { webMs: 10_000, jobMs: 0 })
    await h.ctx.producer().send('seda:jobs', { webMs: 0, jobMs: 10_000 })
    await settle()

    const stopping = h.ctx.stop()
    await vi.advanceTimersByTimeAsync(500)
    void h.ctx.forceStop()
    await vi.advanceTimersByTimeAsync(0)
    const report = await stopping

    expect(report.forced).toBe(true)
    expect(report.routes.map((r) => [r.id, r.forced, r.stoppedAtMs])).toEqual([
      ['web', true, 500],
      ['jobs', true, 500],
    ])
  })

  it('never runs past the timeout given to stop(), whatever the tier budgets', async () => {
    await h.ctx.producer().send('seda:web', { webMs: 5000, jobMs: 0 })
    await h.ctx.producer().send('seda:jobs', { webMs: 0, jobMs: 5000 })
    await settle()

    const stopping = h.ctx.stop({ timeoutMs: 1000 })
    await vi.advanceTimersByTimeAsync(1000)
    const report = await stopping

    expect(report.durationMs).toBe(1000)
    expect(report.routes.every((r) => r.forced)).toBe(true)
  })

  it('stops a single route through its tier on stopRoute, without NOTICE or NOW', async () => {
    await h.ctx.producer().send('seda:jobs', { webMs: 0, jobMs: 1000 })
    await settle()

    const stopping = h.ctx.stopRoute('jobs')
    await vi.advanceTimersByTimeAsync(1000)

    expect(await stopping).toBe(true)
    expect(h.ctx.shutdownLevel).toBe('running')
    expect(h.ctx.routes().map((r) => [r.id, r.status])).toEqual([
      ['jobs', 'stopped'],
      ['web', 'started'],
    ])
    expect(h.ctx.mock('done').receivedExchanges).toHaveLength(1)
  })
})

describe('route matchers', () => {
  const route = (id: string, from: string) => ({ id, from }) as RouteHandle

  it('byScheme matches routes by the scheme of their from URI, case-insensitively', () => {
    const http = byScheme('http', 'amqp')
    expect([route('a', 'http:/orders'), route('b', 'AMQP:queue:x'), route('c', 'seda:x')].map(http)).toEqual([
      true,
      true,
      false,
    ])
  })

  it('byId matches routes by id', () => {
    expect([route('api', 'x:y'), route('worker', 'x:y')].map(byId('api'))).toEqual([true, false])
  })
})
