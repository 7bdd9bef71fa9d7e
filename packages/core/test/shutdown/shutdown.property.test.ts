import { createContext, DefaultShutdownStrategy, type Exchange, type ShutdownReport } from '@dromedary/core'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { abortableSleep, flush, track, untilAborted } from './support.js'

type Kind = 'sync' | 'async' | 'fail' | 'failAsync' | 'stuck'
type Outcome = 'completed' | 'failed' | 'aborted'

/** q: seda, d: direct, c: seda whose exchanges then call direct:sink (a route stopped before c). */
type Target = 'q' | 'd' | 'c'
type RouteId = Target | 'sink'

interface Item {
  readonly target: Target
  readonly kind: Kind
  readonly ms: number
  readonly sendAt: number
}

interface Scenario {
  readonly items: readonly Item[]
  readonly concurrency: number
  readonly completeAllTasks: boolean
  readonly reverse: boolean
  readonly preStopDelayMs: number
  readonly timeoutMs: number
  readonly stopAt: number
  readonly forceAfter: number | undefined
}

const item: fc.Arbitrary<Item> = fc.record({
  target: fc.constantFrom<Target>('q', 'd', 'c'),
  kind: fc.constantFrom<Kind>('sync', 'async', 'fail', 'failAsync', 'stuck'),
  ms: fc.integer({ min: 1, max: 3000 }),
  sendAt: fc.integer({ min: 0, max: 4000 }),
})

const scenario: fc.Arbitrary<Scenario> = fc.record({
  items: fc.array(item, { maxLength: 25 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  completeAllTasks: fc.boolean(),
  reverse: fc.boolean(),
  preStopDelayMs: fc.constantFrom(0, 0, 300),
  timeoutMs: fc.integer({ min: 100, max: 4000 }),
  stopAt: fc.integer({ min: 0, max: 3000 }),
  forceAfter: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
})

function behave(ex: Exchange, it: Item): void | Promise<void> {
  switch (it.kind) {
    case 'sync':
      return undefined
    case 'async':
      return abortableSleep(ex, it.ms)
    case 'fail':
      throw new Error('fail')
    case 'failAsync':
      return abortableSleep(ex, it.ms).then(() => {
        throw new Error('fail later')
      })
    case 'stuck':
      return untilAborted(ex)
  }
}

function expectedOutcome(ex: Exchange, it: Item): Outcome {
  if (ex.signal.aborted) return 'aborted'
  return it.kind === 'fail' || it.kind === 'failAsync' ? 'failed' : 'completed'
}

const ROUTES: readonly RouteId[] = ['q', 'd', 'c', 'sink']
const URIS: Record<Target, string> = { q: 'seda:q', d: 'direct:d', c: 'seda:c' }

function zeroes(): Record<RouteId, Record<Outcome, number>> {
  const z = () => ({ completed: 0, failed: 0, aborted: 0 })
  return { q: z(), d: z(), c: z(), sink: z() }
}

async function outcomes(
  ctx: ReturnType<typeof createContext>,
): Promise<Record<RouteId, Record<Outcome, number>>> {
  const out = zeroes()
  const metric = ctx.metrics!.getSingleMetric('dromedary_exchanges_total')!
  for (const v of (await metric.get()).values) {
    const route = v.labels.route as RouteId
    const outcome = v.labels.outcome as Outcome
    out[route][outcome] += v.value
  }
  return out
}

async function runScenario(s: Scenario): Promise<void> {
  const strategy = new DefaultShutdownStrategy({
    timeoutMs: s.timeoutMs,
    shutdownRoutesInReverseOrder: s.reverse,
  })
  const ctx = createContext({
    logger: false,
    shutdownStrategy: strategy,
    shutdown: { preStopDelayMs: s.preStopDelayMs },
  })
  const created = new Map<string, { ex: Exchange; item: Item; route: Target }>()
  let duplicates = 0
  const step = (route: Target) => (ex: Exchange) => {
    if (created.has(ex.id)) duplicates++
    const it = s.items[ex.message.body as number]!
    created.set(ex.id, { ex, item: it, route })
    return behave(ex, it)
  }
  await ctx.addRoutes((r) => {
    r.from(`seda:q?concurrentConsumers=${s.concurrency}`)
      .routeId('q')
      .shutdownRunningTask(s.completeAllTasks ? 'completeAllTasks' : 'completeCurrentTaskOnly')
      .process(step('q'))
    r.from('direct:d').routeId('d').process(step('d'))
    r.from('seda:c').routeId('c').startupOrder(1).process(step('c')).to('direct:sink')
    r.from('direct:sink').routeId('sink').startupOrder(2).to('mock:sink')
  })
  await ctx.start()

  const sends: Array<{ target: Target; result: Promise<Exchange> }> = []
  // Work for c arrives before the stop: all of it must still find direct:sink running.
  const sendAt = (it: Item) => (it.target === 'c' ? it.sendAt % (s.stopAt + 1) : it.sendAt)
  const sendTimers = s.items.map((it, i) =>
    setTimeout(
      () => sends.push({ target: it.target, result: ctx.producer().send(URIS[it.target], i) }),
      sendAt(it),
    ),
  )

  await vi.advanceTimersByTimeAsync(s.stopAt)
  const atStart = new Map(ctx.routes().map((r) => [r.id, { inflight: r.inflight, pending: r.pending }]))
  const stopping = track(ctx.stop())
  if (s.forceAfter !== undefined) {
    await vi.advanceTimersByTimeAsync(s.forceAfter)
    if (!stopping.settled) void ctx.forceStop()
  }
  await vi.advanceTimersByTimeAsync(s.preStopDelayMs + s.timeoutMs + 10)
  await flush(50)

  // stop() always resolves, within the pre-stop delay plus the timeout.
  expect(stopping.settled).toBe(true)
  const report = stopping.value as ShutdownReport
  for (const t of sendTimers) clearTimeout(t)
  const results = await Promise.all(sends.map(async (x) => ({ target: x.target, ex: await x.result })))
  await flush(50)

  // Every exchange ended exactly once, with the outcome its work and the shutdown call for.
  expect(duplicates).toBe(0)
  expect(ctx.inflight.size()).toBe(0)
  expect(ROUTES.map((id) => ctx.inflight.size(id))).toEqual([0, 0, 0, 0])
  const expected = zeroes()
  for (const c of created.values()) {
    const outcome = expectedOutcome(c.ex, c.item)
    expected[c.route][outcome]++
    if (c.route === 'c' && outcome === 'completed') expected.sink.completed++
  }
  for (const seda of ['q', 'c'] as const) {
    const accepted = results.filter((x) => x.target === seda && x.ex.exception === undefined).length
    const dropped = accepted - [...created.values()].filter((c) => c.route === seda).length
    expect(dropped).toBeGreaterThanOrEqual(0)
    expected[seda].aborted += dropped
  }
  expect(await outcomes(ctx)).toEqual(expected)

  // Only a forced stop aborts or drops anything; stuck work forces the stop.
  const anyStuck = [...created.values()].some((c) => c.item.kind === 'stuck')
  if (!report.forced) {
    expect(ROUTES.map((id) => expected[id].aborted)).toEqual([0, 0, 0, 0])
    expect(anyStuck && report.timedOut === false).toBe(false)
  }

  // The report adds up.
  expect(report.graceful).toBe(!report.forced && !report.timedOut)
  expect(report.routes.map((r) => r.id).sort()).toEqual(['c', 'd', 'q', 'sink'])
  expect(report.forced).toBe(report.routes.some((r) => r.forced))
  for (const r of report.routes) {
    expect(r.aborted).toBe(expected[r.id as RouteId].aborted)
    expect({ inflight: r.inflightAtStart, pending: r.pendingAtStart }).toEqual(atStart.get(r.id))
    expect(r.stoppedAtMs).toBeLessThanOrEqual(report.durationMs)
  }

  // Nothing is left behind: no timer, no running consumer, no more sends accepted.
  expect(vi.getTimerCount()).toBe(0)
  expect(ctx.status).toBe('stopped')
  expect(ctx.shutdownLevel).toBe('shutdown')
}

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('shutdown under random workloads (property)', () => {
  it('always resolves, ends every exchange exactly once, adds up its report and leaves no timer behind', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        vi.clearAllTimers()
        await runScenario(s)
      }),
      { numRuns: 50 },
    )
  })
})
