// Property: whatever the participants of a shutdown do — NOTICE and NOW listeners, consumers, components, the
// steps of exchanges in flight, a custom strategy — finish, throw, or hang, stop() resolves within
// timeoutMs + nowBudgetMs + 1 s and forceStop() within nowBudgetMs + 1 s; every route ends stopped; no timer is
// left; an overrunning participant makes the report not graceful; and every exchange ends exactly once.
import {
  createContext,
  DefaultShutdownStrategy,
  type Component,
  type ConsumerHost,
  type Exchange,
  type RouteBuilder,
  type ShutdownReport,
  type ShutdownStrategy,
} from '@dromedary/core'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { captureLogger, track } from '../shutdown/support.js'
import {
  assertProperty,
  droppedByEndpoint,
  outcomesByRoute,
  propertyTimeout,
  quiesce,
  type Outcome,
} from './support.js'

/** What a participant does when called: finish (sync or not), fail (sync or later), take a while, or hang. */
type ActKind = 'ok' | 'okAsync' | 'throw' | 'reject' | 'slow' | 'hang' | 'hangUntilAbort'

interface Act {
  readonly kind: ActKind
  /** How long `reject` and `slow` take (both end early, failing, when their signal aborts). */
  readonly ms: number
}

const HANGS: ReadonlySet<ActKind> = new Set(['hang', 'hangUntilAbort'])

type StrategyKind =
  | 'default'
  | 'throws'
  | 'throwsAfterNotice'
  | 'hangs'
  | 'hangsAfterNotice'
  | 'hangsUntilSignal'
  | 'doesNothing'
  | 'defaultThenThrows'

/** A custom component with one consumer route: what its consumer's hooks and its close do. */
interface ComponentSpec {
  readonly prepare: Act
  readonly stop: Act
  readonly close: Act
  readonly defer: boolean
}

/** `q`: seda, `d`: direct, `c0`/`c1`: the custom components' routes. */
type Target = 'q' | 'd' | 'c0' | 'c1'

interface Item {
  readonly target: Target
  readonly act: Act
  /** When it is sent (ms after start). */
  readonly at: number
}

interface Scenario {
  readonly notice: readonly Act[]
  readonly now: readonly Act[]
  readonly components: readonly ComponentSpec[]
  readonly items: readonly Item[]
  /** The timer route's exchanges do these in turn; empty: no timer route. */
  readonly timer: readonly Act[]
  readonly period: number
  readonly strategy: StrategyKind
  readonly timeoutMs: number
  readonly nowBudgetMs: number
  readonly preStopDelayMs: number
  readonly shutdownNowOnTimeout: boolean
  readonly completeAllTasks: boolean
  readonly deferDirect: boolean
  readonly stopAt: number
  readonly first: 'stop' | 'forceStop'
  /** forceStop() (a second signal) this long after the first call. */
  readonly forceAfter: number | undefined
  /** stop() called again this long after the first call. */
  readonly againAfter: number | undefined
  /** A stopRoute of one of the routes (`pick` modulo their number), at `at` ms after start. */
  readonly routeStop:
    | { readonly pick: number; readonly timeoutMs: number; readonly abort: boolean; readonly at: number }
    | undefined
}

interface Limits {
  readonly ms: number
  readonly at: number
  readonly timeoutMs: number
  readonly nowBudgetMs: number
  readonly preStopDelayMs: number
  readonly period: { readonly min: number; readonly max: number }
}

function actOf(maxMs: number): fc.Arbitrary<Act> {
  const kind = fc.oneof(
    { weight: 3, arbitrary: fc.constant<ActKind>('ok') },
    { weight: 2, arbitrary: fc.constant<ActKind>('okAsync') },
    { weight: 1, arbitrary: fc.constant<ActKind>('throw') },
    { weight: 1, arbitrary: fc.constant<ActKind>('reject') },
    { weight: 3, arbitrary: fc.constant<ActKind>('slow') },
    { weight: 1, arbitrary: fc.constant<ActKind>('hang') },
    { weight: 1, arbitrary: fc.constant<ActKind>('hangUntilAbort') },
  )
  return fc.record({ kind, ms: fc.integer({ min: 0, max: maxMs }) })
}

function scenarioOf(l: Limits): fc.Arbitrary<Scenario> {
  const act = actOf(l.ms)
  const maybe = (max: number) => fc.option(fc.integer({ min: 0, max }), { nil: undefined, freq: 3 })
  return fc.record({
    notice: fc.array(act, { maxLength: 3 }),
    now: fc.array(act, { maxLength: 3 }),
    components: fc.array(fc.record({ prepare: act, stop: act, close: act, defer: fc.boolean() }), {
      maxLength: 2,
    }),
    items: fc.array(
      fc.record({
        target: fc.constantFrom<Target>('q', 'd', 'c0', 'c1'),
        act,
        at: fc.integer({ min: 0, max: l.at }),
      }),
      { maxLength: 12 },
    ),
    timer: fc.array(act, { maxLength: 3 }),
    period: fc.integer(l.period),
    strategy: fc.oneof(
      { weight: 6, arbitrary: fc.constant<StrategyKind>('default') },
      {
        weight: 4,
        arbitrary: fc.constantFrom<StrategyKind>(
          'throws',
          'throwsAfterNotice',
          'hangs',
          'hangsAfterNotice',
          'hangsUntilSignal',
          'doesNothing',
          'defaultThenThrows',
        ),
      },
    ),
    timeoutMs: fc.integer({ min: 0, max: l.timeoutMs }),
    nowBudgetMs: fc.integer({ min: 0, max: l.nowBudgetMs }),
    preStopDelayMs: fc.constantFrom(0, 0, l.preStopDelayMs),
    shutdownNowOnTimeout: fc.boolean(),
    completeAllTasks: fc.boolean(),
    deferDirect: fc.boolean(),
    stopAt: fc.integer({ min: 0, max: l.at }),
    first: fc.constantFrom<'stop' | 'forceStop'>('stop', 'stop', 'forceStop'),
    forceAfter: maybe(l.timeoutMs + l.nowBudgetMs),
    againAfter: maybe(l.timeoutMs),
    routeStop: fc.option(
      fc.record({
        pick: fc.nat(),
        timeoutMs: fc.integer({ min: 0, max: l.timeoutMs }),
        abort: fc.boolean(),
        at: fc.integer({ min: 0, max: l.at }),
      }),
      { nil: undefined, freq: 3 },
    ),
  })
}

/** Waits `ms`; rejects at once when `signal` aborts. Leaves no timer behind either way. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted === true) return reject(new Error('aborted'))
    const onAbort = () => {
      clearTimeout(timer)
      reject(new Error('aborted'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Does `act`; a `hang` waits on `hang()` (forever for participants; steps are released by the test later). */
function perform(act: Act, signal: AbortSignal | undefined, hang: () => Promise<void>): void | Promise<void> {
  switch (act.kind) {
    case 'ok':
      return undefined
    case 'okAsync':
      return Promise.resolve()
    case 'throw':
      throw new Error('participant failed')
    case 'reject':
      return sleep(act.ms, signal).then(() => {
        throw new Error('participant failed later')
      })
    case 'slow':
      return sleep(act.ms, signal)
    case 'hang':
      return hang()
    case 'hangUntilAbort':
      return new Promise<void>((_, reject) => {
        if (signal === undefined) return
        if (signal.aborted) reject(new Error('aborted'))
        else signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })
      })
  }
}

const never = (): Promise<void> => new Promise<void>(() => undefined)

/** A component whose consumer the test feeds directly; its hooks and its close do what the spec says. */
function testComponent(spec: ComponentSpec): { component: Component; feed(body: number): void } {
  let host: ConsumerHost | undefined
  let open = false
  const component: Component = {
    createEndpoint(uri) {
      uri.parseOptions({})
      return {
        uri: uri.uri,
        createConsumer(h) {
          host = h
          return {
            start() {
              open = true
            },
            prepareShutdown({ signal }) {
              open = false
              return perform(spec.prepare, signal, never)
            },
            stop({ signal }) {
              open = false
              return perform(spec.stop, signal, never)
            },
          }
        },
      }
    },
    close({ signal }) {
      return perform(spec.close, signal, never)
    },
  }
  return {
    component,
    feed(body) {
      if (open && host !== undefined) void host.process(host.createExchange(body))
    },
  }
}

const LYING_REPORT: ShutdownReport = {
  graceful: true,
  forced: false,
  timedOut: false,
  durationMs: 1,
  routes: [],
}

function strategyOf(kind: StrategyKind, inner: DefaultShutdownStrategy): ShutdownStrategy {
  switch (kind) {
    case 'default':
      return inner
    case 'throws':
      return {
        shutdown() {
          throw new Error('strategy bug')
        },
      }
    case 'throwsAfterNotice':
      return {
        async shutdown(ctx, o) {
          await ctx.notice(Math.ceil(o.timeoutMs / 1000))
          throw new Error('strategy bug after notice')
        },
      }
    case 'hangs':
      return { shutdown: () => new Promise<ShutdownReport>(() => undefined) }
    case 'hangsAfterNotice':
      return {
        async shutdown(ctx, o) {
          await ctx.notice(Math.ceil(o.timeoutMs / 1000))
          return new Promise<ShutdownReport>(() => undefined)
        },
      }
    case 'hangsUntilSignal':
      return {
        async shutdown(ctx) {
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) resolve()
            else ctx.signal.addEventListener('abort', () => resolve(), { once: true })
          })
          return LYING_REPORT
        },
      }
    case 'doesNothing':
      return { shutdown: async () => LYING_REPORT }
    case 'defaultThenThrows':
      return {
        async shutdown(ctx, o) {
          await inner.shutdown(ctx, o)
          throw new Error('strategy bug at the end')
        },
      }
  }
}

/** How the run moves time: fake timers, or real ones (for the handle check). */
interface Clock {
  advance(ms: number): Promise<void>
  /** Waits until `p` settled or the clock reached `by` (ms epoch), whichever comes first. */
  settleBy(p: { readonly settled: boolean }, by: number): Promise<void>
}

async function microtasks(): Promise<void> {
  await quiesce()
}

const fakeClock: Clock = {
  advance: async (ms) => {
    await vi.advanceTimersByTimeAsync(ms)
    await microtasks()
  },
  settleBy: async (_p, by) => {
    await vi.advanceTimersByTimeAsync(Math.max(0, by - Date.now()))
    await microtasks()
  },
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const realClock: Clock = {
  advance: realSleep,
  // Real time is never asserted on (the machine may be slow): this only waits, with a generous cap.
  settleBy: async (p, by) => {
    const cap = by + 10_000
    while (!p.settled && Date.now() < cap) await realSleep(5)
  },
}

interface Seen {
  readonly route: string
  readonly ex: Exchange
  readonly act: Act
  finished: boolean
}

async function runScenario(s: Scenario, clock: Clock): Promise<void> {
  const log = captureLogger()
  const inner = new DefaultShutdownStrategy({
    timeoutMs: s.timeoutMs,
    shutdownNowOnTimeout: s.shutdownNowOnTimeout,
  })
  const tests = s.components.map(testComponent)
  const components: Record<string, Component> = {}
  tests.forEach((t, i) => (components[`c${i}`] = t.component))
  const ctx = createContext({
    logger: log,
    shutdownStrategy: strategyOf(s.strategy, inner),
    shutdown: { preStopDelayMs: s.preStopDelayMs, nowBudgetMs: s.nowBudgetMs },
    components,
  })
  for (const a of s.notice) ctx.onShutdownNotice((p) => perform(a, p.signal, never))
  for (const a of s.now) ctx.onShutdownNow((p) => perform(a, p.signal, never))

  const seen = new Map<string, Seen>()
  let duplicates = 0
  const released: Array<() => void> = []
  const stepHang = () => new Promise<void>((resolve) => released.push(resolve))
  const actOfExchange = (route: string, ex: Exchange): Act =>
    route === 't'
      ? s.timer[(Number(ex.message.headers['timer.counter']) - 1) % s.timer.length]!
      : s.items[ex.message.body as number]!.act
  const record = (route: string) => (ex: Exchange) => {
    if (seen.has(ex.id)) duplicates++
    seen.set(ex.id, { route, ex, act: actOfExchange(route, ex), finished: false })
  }
  const behave = (ex: Exchange) => perform(seen.get(ex.id)!.act, ex.signal, stepHang)
  const finish = (ex: Exchange) => {
    seen.get(ex.id)!.finished = true
  }
  const observed = (b: RouteBuilder<unknown>, id: string) =>
    b.routeId(id).process(record(id)).process(behave).process(finish)
  await ctx.addRoutes((r) => {
    const task = s.completeAllTasks ? 'completeAllTasks' : 'completeCurrentTaskOnly'
    observed(r.from('seda:q?concurrentConsumers=2').shutdownRunningTask(task), 'q')
    observed(r.from('direct:d').shutdownRoute(s.deferDirect ? 'defer' : 'default'), 'd')
    if (s.timer.length > 0) observed(r.from(`timer:t?period=${s.period}`), 't')
    s.components.forEach((c, i) =>
      observed(r.from(`c${i}:in`).shutdownRoute(c.defer ? 'defer' : 'default'), `c${i}`),
    )
  })
  await ctx.start()

  const sedaSends: Array<Promise<Exchange>> = []
  const directSends: Array<Promise<Exchange>> = []
  let routeStop: { readonly settled: boolean; readonly value: boolean | undefined } | undefined
  const routeStopFailed: unknown[] = []
  const sendTimers = s.items.map((item, i) =>
    setTimeout(() => {
      if (item.target === 'q') sedaSends.push(ctx.producer().send('seda:q', i))
      else if (item.target === 'd') directSends.push(ctx.producer().send('direct:d', i))
      else tests[Number(item.target.slice(1))]?.feed(i)
    }, item.at),
  )

  const rs = s.routeStop
  if (rs !== undefined)
    sendTimers.push(
      setTimeout(() => {
        const ids = ctx.routes().map((r) => r.id)
        const p = ctx.stopRoute(ids[rs.pick % ids.length]!, {
          timeoutMs: rs.timeoutMs,
          abortAfterTimeout: rs.abort,
        })
        routeStop = track(p)
        p.catch((err: unknown) => routeStopFailed.push(err))
      }, rs.at),
    )

  await clock.advance(s.stopAt)
  const t0 = Date.now()
  const first = s.first === 'stop' ? ctx.stop({ timeoutMs: s.timeoutMs }) : ctx.forceStop()
  const done = track(first)
  const bounds = [t0 + s.nowBudgetMs + 1000 + (s.first === 'stop' ? s.timeoutMs : 0)]
  // A forced stop, or one escalated while work was still in flight, cannot be graceful. (An escalation once all
  // was drained forces nothing: the report may then say graceful.)
  let forcedWork = s.first === 'forceStop'
  const calls = [
    ...(s.forceAfter === undefined ? [] : [{ at: s.forceAfter, force: true }]),
    ...(s.againAfter === undefined ? [] : [{ at: s.againAfter, force: false }]),
  ].sort((a, b) => a.at - b.at)
  let elapsed = 0
  for (const call of calls) {
    await clock.advance(call.at - elapsed)
    elapsed = call.at
    if (done.settled) break
    // A second call returns the first one's promise; forceStop() escalates it, with its own bound.
    if (call.force) {
      bounds.push(Date.now() + s.nowBudgetMs + 1000)
      if (ctx.shutdownLevel !== 'shutdown' && ctx.inflight.size() > 0) forcedWork = true
      expect(ctx.forceStop()).toBe(first)
    } else expect(ctx.stop()).toBe(first)
  }
  const bound = Math.min(...bounds)
  await clock.settleBy(done, bound)
  // stop() within timeoutMs + nowBudgetMs + 1 s, forceStop() within nowBudgetMs + 1 s.
  expect(done.settled, `settled by ${bound - t0} ms after the first call`).toBe(true)
  const report = done.value!
  for (const t of sendTimers) clearTimeout(t)

  // Nothing outlives the shutdown: every route stopped, no timer left.
  expect(ctx.status).toBe('stopped')
  expect(ctx.shutdownLevel).toBe('shutdown')
  for (const r of ctx.routes())
    expect({ id: r.id, status: r.status }).toEqual({ id: r.id, status: 'stopped' })
  if (clock === fakeClock) expect(vi.getTimerCount()).toBe(0)
  // A route stop under way ended with the context's shutdown.
  if (routeStop !== undefined) expect(routeStop.settled, 'stopRoute settled with the context').toBe(true)
  // It fails only with the error of a strategy that throws.
  if (!['throws', 'throwsAfterNotice', 'defaultThenThrows'].includes(s.strategy))
    expect(routeStopFailed).toEqual([])

  // An overrun (named in a warning), a forced stop, a misbehaving strategy or work that hung: not graceful.
  // (With a stopRoute before the stop, its route's consumer, steps and warnings may be its own business.)
  const overran = log.lines.filter(
    (l) => typeof l.obj === 'object' && l.obj !== null && 'participant' in l.obj,
  ).length
  const ours = rs === undefined
  const hungParticipant = [
    ...s.notice,
    ...s.now,
    ...s.components.flatMap((c) => (ours ? [c.prepare, c.stop, c.close] : [c.close])),
  ].some((a) => HANGS.has(a.kind))
  const hungStep = ours && [...seen.values()].some((x) => HANGS.has(x.act.kind))
  if ((ours && overran > 0) || hungParticipant || hungStep || forcedWork || s.strategy !== 'default')
    expect(report.graceful).toBe(false)
  // What is still in flight was left behind by a step that ignores its signal, and was aborted.
  for (const e of ctx.inflight.browse()) {
    const x = seen.get(e.exchangeId)
    expect(x?.act.kind).toBe('hang')
    expect(x?.ex.signal.aborted).toBe(true)
  }

  // Steps that ignored their signal end now: each exchange still ends exactly once, as aborted.
  for (const release of released.splice(0)) release()
  await microtasks()
  const sendsAccepted = (await Promise.all(sedaSends)).filter((ex) => ex.exception === undefined).length
  await Promise.all(directSends)
  expect(duplicates).toBe(0)
  expect(ctx.inflight.size()).toBe(0)
  const expected = new Map<string, Record<Outcome, number>>()
  for (const x of seen.values()) {
    const o = expected.get(x.route) ?? { completed: 0, failed: 0, aborted: 0 }
    o[x.finished ? 'completed' : x.ex.signal.aborted ? 'aborted' : 'failed']++
    expected.set(x.route, o)
  }
  // A seda message accepted but never taken was dropped: by a forced stop, counted as aborted, or — waiting
  // for a route a stopRoute had stopped — at NOW, counted as dropped. Once either way.
  const sedaSeen = [...seen.values()].filter((x) => x.route === 'q').length
  const droppedAtNow = (await droppedByEndpoint(ctx)).get('seda://q') ?? 0
  const dropped = sendsAccepted - sedaSeen - droppedAtNow
  expect(dropped).toBeGreaterThanOrEqual(0)
  if (dropped > 0) {
    const q = expected.get('q') ?? { completed: 0, failed: 0, aborted: 0 }
    q.aborted += dropped
    expected.set('q', q)
  }
  if (report.graceful && rs === undefined) for (const o of expected.values()) expect(o.aborted).toBe(0)
  const actual = await outcomesByRoute(ctx)
  for (const id of ctx.routes().map((r) => r.id))
    expect({ id, ...actual.get(id) }).toEqual({
      id,
      ...(expected.get(id) ?? { completed: 0, failed: 0, aborted: 0 }),
    })
}

const FAKE: Limits = {
  ms: 4000,
  at: 3000,
  timeoutMs: 3000,
  nowBudgetMs: 2000,
  preStopDelayMs: 300,
  period: { min: 50, max: 1000 },
}

const REAL: Limits = {
  ms: 40,
  at: 20,
  timeoutMs: 40,
  nowBudgetMs: 40,
  preStopDelayMs: 10,
  period: { min: 5, max: 20 },
}

const FAKE_RUNS = 500
const REAL_RUNS = 8

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

afterEach(() => {
  vi.useRealTimers()
})

describe('bounded shutdown (property)', () => {
  it(
    'resolves stop() and forceStop() within their bounds whatever the participants do, and ends every exchange exactly once',
    async () => {
      await assertProperty(
        'bounded shutdown, fake timers',
        fc.asyncProperty(scenarioOf(FAKE), async (s) => {
          vi.useFakeTimers()
          try {
            await runScenario(s, fakeClock)
          } finally {
            vi.clearAllTimers()
            vi.useRealTimers()
          }
        }),
        FAKE_RUNS,
      )
    },
    propertyTimeout(FAKE_RUNS, 100),
  )

  it(
    'leaves no active timer handle behind under real timers',
    async () => {
      await assertProperty(
        'bounded shutdown, real timers',
        fc.asyncProperty(scenarioOf(REAL), async (s) => {
          const before = timeouts()
          await runScenario(s, realClock)
          await realSleep(0)
          // Not more than before the context existed (an unrelated timer of the runner may have ended meanwhile).
          expect(timeouts()).toBeLessThanOrEqual(before)
        }),
        REAL_RUNS,
      )
    },
    propertyTimeout(REAL_RUNS, 2000),
  )
})
