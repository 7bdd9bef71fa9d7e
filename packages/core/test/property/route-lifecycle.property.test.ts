// Model-based test of the route lifecycle: random interleavings of context start/stop/forceStop, per-route
// suspend/resume/start/stop (with and without abortAfterTimeout and timeouts), sends to direct and seda routes,
// failing, slow and stuck steps, and timer ticks, checked after every command against a small model:
// - a route's status is what the model says whenever nothing is moving it (no stop in progress);
// - a `stopped` or `suspended` route creates no exchange, and nothing but startRoute/resumeRoute wakes it;
//   once the context's shutdown closed a route, it never takes work again;
// - control calls the model calls illegal reject with the code it predicts and change nothing;
// - in-flight counts equal the visits not yet ended (so they return to 0 when idle), a timer runs one exchange
//   at a time;
// - every message accepted is completed, failed, aborted, or counted as dropped, exactly once (metrics), and
//   nothing is left queued once the context stopped.
import {
  CoreErrorCodes,
  createContext,
  DefaultShutdownStrategy,
  isDromedaryError,
  type Exchange,
  type IntegrationContext,
  type RouteBuilder,
  type RouteStatus,
  type ShutdownReport,
} from '@dromedary/core'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { abortableSleep, track, untilAborted } from '../shutdown/support.js'
import {
  assertProperty,
  droppedByEndpoint,
  outcomesByRoute,
  propertyTimeout,
  quiesce,
  type Outcome,
} from './support.js'

/** d, dd: direct; s: seda; c: seda whose exchanges call direct:dd; t: timer. */
type RouteId = 'd' | 'dd' | 's' | 'c' | 't'
const ROUTES: readonly RouteId[] = ['d', 'dd', 's', 'c', 't']
type Target = Exclude<RouteId, 't'>
const URI: Record<Target, string> = { d: 'direct:d', dd: 'direct:dd', s: 'seda:s', c: 'seda:c' }
const SEDA: ReadonlySet<RouteId> = new Set(['s', 'c'])
type Stable = 'started' | 'suspended' | 'stopped'
type Kind = 'ok' | 'fail' | 'slow' | 'slowFail' | 'stuck'

interface Body {
  readonly id: number
  readonly kind: Kind
  readonly ms: number
}

interface Config {
  readonly sedaConcurrency: number
  readonly sedaSize: number
  readonly completeAllTasks: boolean
  readonly deferDd: boolean
  readonly deferT: boolean
  readonly timerAutoStartup: boolean
  /** Start the context before the first command (most runs: the interesting part is while it runs). */
  readonly startFirst: boolean
  /** The route most control commands of the run aim at, so that they meet (suspend, then resume it…). */
  readonly focus: RouteId
  readonly period: number
  readonly timer: { readonly kind: Kind; readonly ms: number }
  readonly timeoutMs: number
  readonly shutdownNowOnTimeout: boolean
  readonly nowBudgetMs: number
}

const config: fc.Arbitrary<Config> = fc.record({
  sedaConcurrency: fc.integer({ min: 1, max: 2 }),
  sedaSize: fc.constantFrom(2, 1000),
  completeAllTasks: fc.boolean(),
  deferDd: fc.boolean(),
  deferT: fc.boolean(),
  timerAutoStartup: fc.boolean(),
  startFirst: fc.oneof(
    { weight: 4, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  focus: fc.constantFrom<RouteId>('d', 'dd', 's', 'c', 't', 't', 's'),
  period: fc.integer({ min: 50, max: 400 }),
  timer: fc.record({
    kind: fc.constantFrom<Kind>('ok', 'fail', 'slow', 'slow', 'slow', 'slowFail'),
    ms: fc.integer({ min: 0, max: 600 }),
  }),
  timeoutMs: fc.integer({ min: 0, max: 1500 }),
  shutdownNowOnTimeout: fc.boolean(),
  nowBudgetMs: fc.integer({ min: 0, max: 1000 }),
})

/** One pass of an exchange through one route's steps. */
interface Visit {
  readonly route: RouteId
  readonly ex: Exchange
  readonly kind: Kind
  readonly ms: number
  /** True when the exchange entered this route from another (c → dd). */
  readonly nested: boolean
  /** The route's work step settled (or, for c, nothing is left: see `ended`). */
  stepDone: boolean
  /** The last step ran: the visit completed. */
  finished: boolean
  readonly beganAt: number
  endedAt: number | undefined
  /** For c: its call into dd. */
  child: Visit | undefined
}

function ended(v: Visit): boolean {
  // c has no work step of its own: it ends when its call into dd ended, or at once when that call was refused.
  if (v.route === 'c') return v.child === undefined || ended(v.child)
  return v.stepDone
}

function work(kind: Kind, ms: number, ex: Exchange): void | Promise<void> {
  switch (kind) {
    case 'ok':
      return undefined
    case 'fail':
      throw new Error('step failed')
    case 'slow':
      return abortableSleep(ex, ms)
    case 'slowFail':
      return abortableSleep(ex, ms).then(() => {
        throw new Error('step failed later')
      })
    case 'stuck':
      return untilAborted(ex)
  }
}

interface SendRecord {
  readonly target: Target
  readonly body: Body
  readonly result: { readonly settled: boolean; readonly value: Exchange | undefined }
  /** What may happen: 'accepted' or the code it may be refused with. */
  readonly allowed: ReadonlySet<string>
  checked: boolean
}

interface StopOp {
  readonly route: RouteId
  readonly result: { readonly settled: boolean; readonly value: boolean | undefined }
  readonly failed: { error: unknown }
  /** The status the route had when the stop was called, and whether the call is the only thing moving it. */
  readonly before: RouteStatus
  alone: boolean
  readonly abort: boolean
  seen: boolean
}

/** What the model knows: the context's state and, where nothing is moving it, each route's status. */
interface Model {
  ctx: 'created' | 'started' | 'stopping' | 'stopped'
  readonly status: Record<RouteId, Stable | 'moving'>
}

/** The system under test and what the test observed of it. */
class World {
  readonly ctx: IntegrationContext
  readonly config: Config
  readonly visits: Visit[] = []
  readonly #byKey = new Map<string, Visit>()
  readonly sends: SendRecord[] = []
  readonly stops: StopOp[] = []
  stopping:
    { readonly promise: Promise<ShutdownReport>; readonly state: { readonly settled: boolean } } | undefined
  readonly accepted: Record<RouteId, number> = { d: 0, dd: 0, s: 0, c: 0, t: 0 }
  /** Messages in each seda queue after the last check. */
  readonly queued: Record<RouteId, number> = { d: 0, dd: 0, s: 0, c: 0, t: 0 }
  /** Per route at the last check: status, visits begun, and whether it was asleep (stopped or suspended). */
  readonly last: Record<RouteId, { status: RouteStatus; begun: number; asleep: boolean }>
  /** Routes the context's shutdown has closed: they never take work again. */
  readonly closedByShutdown = new Set<RouteId>()
  nextId = 0
  duplicates = 0
  /** When the timer route was last (re)started: its first fire may come sooner than `period`. */
  timerStartedAt = 0
  readonly violations: string[] = []
  /** Routes not stopped when the context's stop began, and those a stopRoute stopped meanwhile. */
  runningAtStop: RouteId[] = []
  readonly stoppedDuringStop = new Set<RouteId>()

  constructor(cfg: Config) {
    this.config = cfg
    this.ctx = createContext({
      logger: false,
      shutdownStrategy: new DefaultShutdownStrategy({
        timeoutMs: cfg.timeoutMs,
        shutdownNowOnTimeout: cfg.shutdownNowOnTimeout,
      }),
      shutdown: { nowBudgetMs: cfg.nowBudgetMs },
    })
    this.last = {
      d: { status: 'stopped', begun: 0, asleep: true },
      dd: { status: 'stopped', begun: 0, asleep: true },
      s: { status: 'stopped', begun: 0, asleep: true },
      c: { status: 'stopped', begun: 0, asleep: true },
      t: { status: 'stopped', begun: 0, asleep: true },
    }
  }

  async define(): Promise<void> {
    const cfg = this.config
    const record = (route: RouteId) => (ex: Exchange) => {
      const key = `${route}:${ex.id}`
      if (this.#byKey.has(key)) this.duplicates++
      const body = ex.message.body as Body | null
      const nested = ex.fromRouteId !== route
      const v: Visit = {
        route,
        ex,
        kind: body?.kind ?? cfg.timer.kind,
        ms: body?.ms ?? cfg.timer.ms,
        nested,
        stepDone: false,
        finished: false,
        beganAt: Date.now(),
        endedAt: undefined,
        child: undefined,
      }
      if (route === 't') this.#checkFixedDelay(v)
      if (nested) {
        const parent = this.#byKey.get(`${ex.fromRouteId}:${ex.id}`)
        if (parent !== undefined) parent.child = v
      }
      this.#byKey.set(key, v)
      this.visits.push(v)
    }
    const step = (route: RouteId) => (ex: Exchange) => {
      const v = this.#byKey.get(`${route}:${ex.id}`)!
      let r: void | Promise<void>
      try {
        r = work(v.kind, v.ms, ex)
      } catch (err) {
        this.#ended(v)
        throw err
      }
      if (r === undefined) this.#ended(v)
      else return r.finally(() => this.#ended(v))
    }
    const finish = (route: RouteId) => (ex: Exchange) => {
      this.#byKey.get(`${route}:${ex.id}`)!.finished = true
    }
    const observed = (b: RouteBuilder<unknown>, id: RouteId) =>
      b.routeId(id).process(record(id)).process(step(id)).process(finish(id))
    await this.ctx.addRoutes((r) => {
      observed(r.from('direct:d'), 'd')
      observed(r.from('direct:dd').shutdownRoute(cfg.deferDd ? 'defer' : 'default'), 'dd')
      observed(
        r
          .from(`seda:s?concurrentConsumers=${cfg.sedaConcurrency}&size=${cfg.sedaSize}`)
          .shutdownRunningTask(cfg.completeAllTasks ? 'completeAllTasks' : 'completeCurrentTaskOnly'),
        's',
      )
      r.from('seda:c').routeId('c').process(record('c')).to('direct:dd').process(finish('c'))
      observed(
        r
          .from(`timer:t?period=${cfg.period}`)
          .autoStartup(cfg.timerAutoStartup)
          .shutdownRoute(cfg.deferT ? 'defer' : 'default'),
        't',
      )
    })
  }

  #ended(v: Visit): void {
    v.stepDone = true
    v.endedAt = Date.now()
  }

  /**
   * A timer fires `period` after its previous exchange ended (fixed delay), one exchange at a time, whatever
   * suspend/resume did in between; only a (re)start fires sooner (after `delay`).
   */
  #checkFixedDelay(v: Visit): void {
    const previous = this.visits.findLast((x) => x.route === 't')
    if (previous === undefined || previous.beganAt < this.timerStartedAt) return
    if (previous.endedAt === undefined)
      this.violations.push(`timer fired at ${v.beganAt} while one was running`)
    else if (v.beganAt - previous.endedAt < this.config.period)
      this.violations.push(`timer fired ${v.beganAt - previous.endedAt} ms after the previous one ended`)
  }

  status(id: RouteId): RouteStatus {
    return this.ctx.routes().find((r) => r.id === id)!.status
  }

  pending(id: RouteId): number {
    return this.ctx.routes().find((r) => r.id === id)!.pending
  }

  begun(id: RouteId): number {
    return this.visits.filter((v) => v.route === id).length
  }

  visitOf(route: RouteId, bodyId: number): Visit | undefined {
    return this.visits.find((v) => v.route === route && (v.ex.message.body as Body | null)?.id === bodyId)
  }

  pendingStops(id: RouteId): StopOp[] {
    return this.stops.filter((o) => o.route === id && !o.seen)
  }
}

type Result = { readonly ok: true } | { readonly code: string }

async function outcome(p: Promise<unknown>): Promise<Result> {
  try {
    await p
    return { ok: true }
  } catch (err) {
    return { code: isDromedaryError(err) ? err.code : `not a DromedaryError: ${String(err)}` }
  }
}

const ok = (r: Result) => 'ok' in r
const codeOf = (r: Result) => ('code' in r ? r.code : 'ok')

/** Lets every chain of microtasks run to its end (seda dispatch, lifecycle steps). */
async function settle(): Promise<void> {
  await quiesce()
}

abstract class Command implements fc.AsyncCommand<Model, World> {
  check(): boolean {
    return true
  }

  async run(m: Model, w: World): Promise<void> {
    await this.act(m, w)
    await settle()
    await verify(m, w, this)
  }

  /** True when this command may legitimately wake route `id` (make a stopped or suspended route take work). */
  wakes(_m: Model, _id: RouteId): boolean {
    return false
  }

  abstract act(m: Model, w: World): Promise<void>
  abstract toString(): string
}

/** Whether nothing but this command moves route `id`: the model then knows its status and predicts exactly. */
function quiet(m: Model, w: World, id: RouteId): boolean {
  return (
    (m.ctx === 'created' || m.ctx === 'started') &&
    m.status[id] !== 'moving' &&
    w.pendingStops(id).length === 0
  )
}

class StartContext extends Command {
  #wasCreated = false

  override wakes(): boolean {
    return this.#wasCreated
  }

  async act(m: Model, w: World): Promise<void> {
    w.timerStartedAt = Date.now()
    const r = await outcome(w.ctx.start())
    this.#wasCreated = m.ctx === 'created'
    if (!this.#wasCreated) {
      expect(codeOf(r)).toBe(CoreErrorCodes.ALREADY_STARTED)
      return
    }
    expect(r).toEqual({ ok: true })
    m.ctx = 'started'
    for (const id of ROUTES) m.status[id] = id === 't' && !w.config.timerAutoStartup ? 'stopped' : 'started'
  }

  toString(): string {
    return 'start()'
  }
}

class StopContext extends Command {
  constructor(readonly force: boolean) {
    super()
  }

  async act(m: Model, w: World): Promise<void> {
    const running = ROUTES.filter((id) => w.status(id) !== 'stopped')
    const p = this.force ? w.ctx.forceStop() : w.ctx.stop()
    if (w.stopping === undefined) {
      w.runningAtStop = running
      w.stopping = { promise: p, state: track(p) }
      m.ctx = 'stopping'
      for (const id of ROUTES) if (m.status[id] !== 'stopped') m.status[id] = 'moving'
      for (const op of w.stops) op.alone = false
    } else expect(p).toBe(w.stopping.promise)
  }

  toString(): string {
    return this.force ? 'forceStop()' : 'stop()'
  }
}

type Control = 'suspend' | 'resume' | 'start'

/** A route a command aims at: one by id, the run's focus, or one that does not exist. */
type RouteRef = RouteId | 'focus' | 'nope'

function resolve(ref: RouteRef, w: World): RouteId | 'nope' {
  return ref === 'focus' ? w.config.focus : ref
}

class RouteControl extends Command {
  #target: RouteId | 'nope' | undefined

  constructor(
    readonly action: Control,
    readonly ref: RouteRef,
  ) {
    super()
  }

  override wakes(_m: Model, id: RouteId): boolean {
    return this.#target === id && this.action !== 'suspend'
  }

  async act(m: Model, w: World): Promise<void> {
    const ctx = w.ctx
    const target = (this.#target = resolve(this.ref, w))
    const call = () =>
      this.action === 'suspend'
        ? ctx.suspendRoute(target)
        : this.action === 'resume'
          ? ctx.resumeRoute(target)
          : ctx.startRoute(target)
    if (target === 'nope') {
      expect(codeOf(await outcome(call()))).toBe(CoreErrorCodes.UNKNOWN_ROUTE)
      return
    }
    const id = target
    const strict = quiet(m, w, id)
    for (const op of w.pendingStops(id)) op.alone = false
    const before = w.status(id)
    const predicted = predictControl(this.action, m, before)
    if (id === 't' && this.action === 'start') w.timerStartedAt = Date.now()
    const r = await outcome(call())
    if (strict) expect(codeOf(r), `${this.toString()} on a ${before} route`).toBe(predicted.code)
    else
      expect([
        'ok',
        CoreErrorCodes.INVALID_STATE,
        CoreErrorCodes.SHUTTING_DOWN,
        CoreErrorCodes.NOT_STARTED,
      ]).toContain(codeOf(r))
    if (!ok(r)) {
      // Refused: nothing changed.
      if (strict) expect(w.status(id)).toBe(before)
      return
    }
    if (strict) m.status[id] = predicted.next!
  }

  toString(): string {
    return `${this.action}Route(${this.ref})`
  }
}

function predictControl(action: Control, m: Model, status: RouteStatus): { code: string; next?: Stable } {
  const stopping = m.ctx === 'stopping' || m.ctx === 'stopped'
  switch (action) {
    case 'suspend':
      if (status === 'started' || status === 'suspended') return { code: 'ok', next: 'suspended' }
      return { code: CoreErrorCodes.INVALID_STATE }
    case 'resume':
      if (status === 'started') return { code: 'ok', next: 'started' }
      if (stopping) return { code: CoreErrorCodes.SHUTTING_DOWN }
      if (status === 'suspended') return { code: 'ok', next: 'started' }
      return { code: CoreErrorCodes.INVALID_STATE }
    case 'start':
      if (stopping) return { code: CoreErrorCodes.SHUTTING_DOWN }
      if (m.ctx === 'created') return { code: CoreErrorCodes.NOT_STARTED }
      if (status === 'stopping' || status === 'starting') return { code: CoreErrorCodes.INVALID_STATE }
      return { code: 'ok', next: 'started' }
  }
}

class StopRoute extends Command {
  constructor(
    readonly ref: RouteRef,
    readonly timeoutMs: number | undefined,
    readonly abort: boolean | undefined,
  ) {
    super()
  }

  async act(m: Model, w: World): Promise<void> {
    const options = {
      ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
      ...(this.abort === undefined ? {} : { abortAfterTimeout: this.abort }),
    }
    const id = resolve(this.ref, w)
    const before = id === 'nope' ? undefined : w.status(id)
    const p = w.ctx.stopRoute(id, options)
    if (id === 'nope' || before === undefined) {
      expect(codeOf(await outcome(p))).toBe(CoreErrorCodes.UNKNOWN_ROUTE)
      return
    }
    if (this.timeoutMs !== undefined && !(this.timeoutMs >= 0)) {
      expect(codeOf(await outcome(p))).toBe(CoreErrorCodes.INVALID_OPTION)
      expect(w.status(id)).toBe(before)
      return
    }
    const alone = quiet(m, w, id)
    for (const op of w.pendingStops(id)) op.alone = false
    const failed = { error: undefined as unknown }
    p.catch((err: unknown) => (failed.error = err))
    w.stops.push({
      route: id,
      result: track(p),
      failed,
      before,
      alone,
      abort: this.abort === true,
      seen: false,
    })
    if (m.status[id] !== 'stopped') m.status[id] = 'moving'
  }

  toString(): string {
    return `stopRoute(${this.ref}, ${JSON.stringify({ timeoutMs: this.timeoutMs, abortAfterTimeout: this.abort })})`
  }
}

class Send extends Command {
  constructor(
    readonly ref: Target | 'focus',
    readonly kind: Kind,
    readonly ms: number,
  ) {
    super()
  }

  async act(_m: Model, w: World): Promise<void> {
    const focus = w.config.focus
    // The timer takes no sends: its focus runs feed the seda route instead.
    const target = this.ref !== 'focus' ? this.ref : focus === 't' ? 's' : focus
    const body: Body = { id: w.nextId++, kind: this.kind, ms: this.ms }
    const allowed = allowedSend(target, w)
    const result = track(w.ctx.producer().send(URI[target], body))
    w.sends.push({ target, body, result, allowed, checked: false })
  }

  toString(): string {
    return `send(${this.ref}, ${this.kind}${this.kind.startsWith('slow') ? ` ${this.ms} ms` : ''})`
  }
}

/** What a send may lead to, from the context's level and the target route's status at the moment of sending. */
function allowedSend(target: Target, w: World): ReadonlySet<string> {
  const level = w.ctx.shutdownLevel
  const status = w.status(target)
  const E = CoreErrorCodes
  if (level === 'shutdown') return new Set([E.SHUTTING_DOWN])
  // A stopping route's consumer takes work until it is stopped — or refuses sends from outside the routes once
  // its intake closed (a consumer may do either: only what is already in flight must still reach it).
  const stopping = status === 'stopping' || status === 'starting'
  if (!SEDA.has(target)) {
    if (status === 'started') return new Set(['accepted'])
    if (stopping) return new Set(['accepted', E.NO_CONSUMER, E.SHUTTING_DOWN])
    return new Set([E.NO_CONSUMER])
  }
  const out = new Set<string>()
  const full = w.queued[target] >= (target === 's' ? w.config.sedaSize : 1000)
  // A queue outlives its consumer, except that after NOTICE one whose consumer is gone refuses sends, and one whose
  // intake was closed (a stop) may refuse sends from outside the routes.
  if (stopping || status === 'stopped') out.add(E.SHUTTING_DOWN)
  if (level !== 'pending' || status !== 'stopped') out.add(full ? E.QUEUE_FULL : 'accepted')
  return out
}

class Advance extends Command {
  constructor(readonly ms: number) {
    super()
  }

  async act(): Promise<void> {
    await vi.advanceTimersByTimeAsync(this.ms)
  }

  toString(): string {
    return `advance(${this.ms})`
  }
}

/** Checks every invariant after a command, and folds what settled into the model. */
async function verify(m: Model, w: World, cmd: Command): Promise<void> {
  const ctx = w.ctx
  expect(w.duplicates, 'a route ran one exchange twice').toBe(0)

  // Stops that finished: fold their result into the model.
  for (const op of w.stops) {
    if (op.seen || !op.result.settled) continue
    op.seen = true
    expect(op.failed.error, `stopRoute(${op.route}) rejected`).toBeUndefined()
    const now = w.status(op.route)
    const others = w.pendingStops(op.route).length > 0
    if (op.result.value === true) {
      expect(now, `stopRoute(${op.route}) resolved true`).toBe('stopped')
      if (m.ctx !== 'created' && m.ctx !== 'started') w.stoppedDuringStop.add(op.route)
    } else {
      // false only when the timeout hit and nothing forced the route: abortAfterTimeout, or
      // shutdownNowOnTimeout: false — and it is left as it was.
      expect(op.abort || !w.config.shutdownNowOnTimeout, `stopRoute(${op.route}) resolved false`).toBe(true)
      if (op.alone && m.ctx !== 'stopping' && m.ctx !== 'stopped') expect(now).toBe(op.before)
    }
    if (others || m.ctx === 'stopping') continue
    expect(['started', 'suspended', 'stopped'], `${op.route} after its stops`).toContain(now)
    m.status[op.route] = now as Stable
  }
  if (w.stopping?.state.settled === true && m.ctx === 'stopping') {
    m.ctx = 'stopped'
    for (const id of ROUTES) m.status[id] = 'stopped'
    // The report names every route the stop found running once (unless a stopRoute stopped it meanwhile).
    const reported = (await w.stopping.promise).routes.map((r) => r.id)
    expect(new Set(reported).size, `routes reported twice: ${reported.join(', ')}`).toBe(reported.length)
    for (const id of w.runningAtStop) if (!w.stoppedDuringStop.has(id)) expect(reported).toContain(id)
  }
  expect(w.violations).toEqual([])

  for (const id of ROUTES) {
    const status = w.status(id)
    const last = w.last[id]
    const begun = w.begun(id)
    // The model's status, wherever nothing is moving the route.
    if (quiet(m, w, id) || m.ctx === 'stopped') expect(status, `status of ${id}`).toBe(m.status[id])
    // A stopped or suspended route creates no exchange, and only startRoute/resumeRoute/start() wake it.
    if (last.asleep && !cmd.wakes(m, id)) {
      expect(begun - last.begun, `exchanges created by ${id} while ${last.status}`).toBe(0)
      expect(status, `${id} woke up by itself`).not.toBe('started')
    }
    // Once the context's shutdown closed a route, it is never reopened (nor resumed).
    if (w.stopping !== undefined && status !== 'started' && status !== 'starting') w.closedByShutdown.add(id)
    if (w.closedByShutdown.has(id)) expect(status, `${id} reopened during the shutdown`).not.toBe('started')
    // In flight: exactly the visits not yet ended.
    const open = w.visits.filter((v) => v.route === id && !ended(v)).length
    expect(ctx.inflight.size(id), `in flight in ${id}`).toBe(open)
    w.last[id] = {
      status,
      begun,
      asleep: status === 'stopped' || status === 'suspended' || (last.asleep && status === 'stopping'),
    }
  }
  // Fixed delay: one timer exchange at a time, however often the route was suspended and resumed.
  expect(ctx.inflight.size('t')).toBeLessThanOrEqual(1)
  // route_up says what the status says; the context is ready only while started and running.
  const up = await routeUp(ctx)
  for (const id of ROUTES)
    expect(up.get(id) ?? 0, `route_up of ${id}`).toBe(w.status(id) === 'started' ? 1 : 0)
  expect(ctx.health().ready).toBe(ctx.status === 'started' && ctx.shutdownLevel === 'running')

  // Sends: refused only as predicted; a refused one created no exchange.
  for (const s of w.sends) {
    if (s.checked || !s.result.settled) continue
    s.checked = true
    const ex = s.result.value!
    const visited = w.visitOf(s.target, s.body.id) !== undefined
    const accepted = SEDA.has(s.target) ? ex.exception === undefined : visited
    if (accepted) {
      expect(s.allowed, `send ${s.body.id} to ${s.target} was accepted`).toContain('accepted')
      w.accepted[s.target]++
    } else {
      const code = isDromedaryError(ex.exception) ? ex.exception.code : String(ex.exception)
      expect(s.allowed, `send ${s.body.id} to ${s.target} was refused`).toContain(code)
      expect(visited).toBe(false)
    }
  }

  // Every exchange that ended is counted once, with its outcome; accepted seda messages not taken are either
  // still queued or were dropped and counted as aborted.
  const actual = await outcomesByRoute(ctx)
  const droppedAtClose = await droppedByEndpoint(ctx)
  for (const id of ROUTES) {
    const exact = { completed: 0, failed: 0, aborted: 0 }
    let failedOrAborted = 0
    for (const v of w.visits) {
      if (v.route !== id || !ended(v)) continue
      if (v.finished) exact.completed++
      // A visit of a call into another route may be failed there and its exchange aborted later in the caller.
      else if (v.nested) failedOrAborted++
      else exact[v.ex.signal.aborted ? 'aborted' : 'failed']++
    }
    const got: Record<Outcome, number> = actual.get(id) ?? { completed: 0, failed: 0, aborted: 0 }
    expect(got.completed, `${id} completed`).toBe(exact.completed)
    expect(got.failed, `${id} failed`).toBeGreaterThanOrEqual(exact.failed)
    expect(got.aborted, `${id} aborted`).toBeGreaterThanOrEqual(exact.aborted)
    // Outcomes beyond the visits that ended: messages a seda queue dropped, counted as aborted.
    const extra = got.failed + got.aborted - exact.failed - exact.aborted - failedOrAborted
    if (!SEDA.has(id)) {
      expect(extra, `${id}: outcomes beyond its exchanges`).toBe(0)
      continue
    }
    expect(got.failed, `${id} failed`).toBe(exact.failed)
    // …and, at the context's stop, what was left in the queue of a route not running, counted as dropped.
    const dropped = extra + (droppedAtClose.get(`seda://${id}`) ?? 0)
    const queued = w.accepted[id] - w.begun(id) - dropped
    expect(queued, `${id}: accepted messages counted twice`).toBeGreaterThanOrEqual(0)
    if (w.status(id) !== 'stopped') expect(w.pending(id), `${id} queued`).toBe(queued)
    if (m.ctx === 'stopped') expect(queued, `${id}: messages left in the queue after the stop`).toBe(0)
    w.queued[id] = queued
  }

  if (m.ctx === 'stopped') {
    for (const op of w.stops)
      expect(op.seen, `stopRoute(${op.route}) still pending after the stop`).toBe(true)
    expect(ctx.inflight.size()).toBe(0)
    expect(vi.getTimerCount(), 'timers left after the stop').toBe(0)
  }
}

async function routeUp(ctx: IntegrationContext): Promise<Map<string, number>> {
  const metric = ctx.metrics!.getSingleMetric('dromedary_route_up')!
  return new Map((await metric.get()).values.map((v) => [String(v.labels.route), v.value]))
}

function commands(): fc.Arbitrary<Iterable<fc.AsyncCommand<Model, World>>> {
  const route = fc.oneof(
    { weight: 8, arbitrary: fc.constant<RouteRef>('focus') },
    { weight: 2, arbitrary: fc.constantFrom<RouteRef>('d', 'dd', 's', 'c', 't', 'nope') },
  )
  const kind = fc.constantFrom<Kind>('ok', 'ok', 'fail', 'slow', 'slow', 'slowFail', 'stuck')
  const send = fc
    .tuple(
      fc.constantFrom<Target | 'focus'>('focus', 'focus', 'focus', 'd', 'dd', 's', 'c'),
      kind,
      fc.integer({ min: 1, max: 800 }),
    )
    .map(([t, k, ms]) => new Send(t, k, ms))
  const advance = fc.integer({ min: 1, max: 500 }).map((ms) => new Advance(ms))
  const control = fc
    .tuple(fc.constantFrom<Control>('suspend', 'resume', 'start'), route)
    .map(([a, id]) => new RouteControl(a, id))
  const stopRoute = fc
    .tuple(
      route,
      fc.option(fc.oneof(fc.integer({ min: 0, max: 800 }), fc.constant(-1)), { nil: undefined, freq: 4 }),
      fc.constantFrom<boolean | undefined>(true, true, false, undefined),
    )
    .map(([id, t, a]) => new StopRoute(id, t, a))
  const stop = fc.constantFrom(new StopContext(false), new StopContext(false), new StopContext(true))
  // fc.commands picks among these alike: repeats weight them.
  return fc.commands(
    [
      ...[send, send, send],
      ...[advance, advance, advance],
      ...[control, control, control, control, control],
      ...[stopRoute, stopRoute, stopRoute],
      stop,
      fc.constant(new StartContext()),
    ],
    { maxCommands: 30, size: 'max' },
  )
}

async function runModel(cfg: Config, cmds: Iterable<fc.AsyncCommand<Model, World>>): Promise<void> {
  const w = new World(cfg)
  await w.define()
  const m: Model = {
    ctx: 'created',
    status: { d: 'stopped', dd: 'stopped', s: 'stopped', c: 'stopped', t: 'stopped' },
  }
  if (cfg.startFirst) await new StartContext().run(m, w)
  await fc.asyncModelRun(() => ({ model: m, real: w }), cmds)
  // Whatever happened, the context is then stopped, and everything must add up with nothing left behind.
  await new StopContext(false).run(m, w)
  await new Advance(cfg.timeoutMs + cfg.nowBudgetMs + 1000).run(m, w)
  expect(m.ctx).toBe('stopped')
}

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.clearAllTimers()
  vi.useRealTimers()
})

const RUNS = 1200

describe('route lifecycle (model-based)', () => {
  it(
    'keeps status, consumer activity, in-flight counts and the accounting identity true after every command',
    async () => {
      await assertProperty(
        'route lifecycle model',
        fc.asyncProperty(config, commands(), async (cfg, cmds) => {
          vi.clearAllTimers()
          await runModel(cfg, cmds)
        }),
        RUNS,
      )
    },
    propertyTimeout(RUNS, 150),
  )
})

// Sequences the random search reaches only rarely, run through the same model and invariants.
describe('route lifecycle (model-based), known sequences', () => {
  const base: Config = {
    sedaConcurrency: 1,
    sedaSize: 1000,
    completeAllTasks: false,
    deferDd: false,
    deferT: false,
    timerAutoStartup: true,
    startFirst: true,
    focus: 't',
    period: 100,
    timer: { kind: 'slow', ms: 300 },
    timeoutMs: 1000,
    shutdownNowOnTimeout: true,
    nowBudgetMs: 500,
  }

  it('holds for a timer resumed while its exchange runs', async () => {
    await runModel(base, [
      new Advance(50),
      new RouteControl('suspend', 't'),
      new RouteControl('resume', 't'),
      new Advance(400),
    ])
  })

  it('holds for a suspended timer whose stopRoute with abortAfterTimeout times out', async () => {
    await runModel(base, [
      new Advance(50),
      new RouteControl('suspend', 't'),
      new StopRoute('t', 100, true),
      new Advance(600),
    ])
  })

  it('holds for a stopRoute with abortAfterTimeout that times out after the context’s stop began', async () => {
    await runModel(base, [
      new Advance(50),
      new StopRoute('t', 100, true),
      new StopContext(false),
      new Advance(150),
      new Advance(300),
    ])
  })

  it('holds for a route a stopRoute left running without shutdownNowOnTimeout', async () => {
    await runModel({ ...base, focus: 'd', shutdownNowOnTimeout: false }, [
      new Send('d', 'stuck', 0),
      new StopRoute('d', 100, undefined),
      new Advance(200),
      new Send('d', 'ok', 0),
      new StopContext(false),
    ])
  })

  it('holds for messages sent to a context that never started', async () => {
    await runModel({ ...base, startFirst: false }, [new Send('c', 'ok', 0), new Send('s', 'slow', 100)])
  })
})
