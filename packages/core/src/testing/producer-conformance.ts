import { createContext, type IntegrationContext } from '../context/context.js'
import type { Exchange } from '../exchange/exchange.js'
import { timingsOf, CONFORMANCE_ROUTE_ID, type Timings } from './harness.js'
import { balance, CLEAN } from './ledger.js'
import { Asserts, type ConformanceRunner } from './runner.js'
import { connectionsDropped, silentPeerOf } from './silent-peer.js'
import type { ProducerCapabilities, ProducerFixture, ProducerSubject } from './subject.js'
import { quiet, until, within } from './waits.js'

const INTAKE = 'direct:dromedary-conformance-producer'

/** What one producer check works with. */
interface ProducerScope {
  readonly fixture: ProducerFixture
  readonly t: Timings
  readonly is: Asserts
  readonly n: number
  open(): Promise<IntegrationContext>
  /** Sends `{ id }` through the route under test; resolves with the exchange (its `exception` set on failure). */
  send(ctx: IntegrationContext, id: string): Promise<Exchange>
  /** Waits until the destination has every one of `ids`, then returns everything it received. */
  arrived(ids: readonly string[]): Promise<readonly string[]>
}

interface ProducerCheck {
  readonly title: string
  applies(c: ProducerCapabilities): boolean
  run(s: ProducerScope): Promise<void>
}

const deliversOnce: ProducerCheck = {
  title: 'delivers every message exactly once and completes each exchange',
  applies: () => true,
  async run(s) {
    const ctx = await s.open()
    const ids = Array.from({ length: s.n }, (_, i) => `send-${i}`)
    const sent = await Promise.all(ids.map((id) => s.send(ctx, id)))
    s.is.equal(
      sent.map((ex) => ex.exception).filter((e) => e !== undefined),
      [],
      'every send to a healthy destination completes without an exception',
    )
    await s.arrived(ids)
    const report = await ctx.stop({ timeoutMs: s.t.stopTimeoutMs })
    s.is.that(report.graceful, 'the stop is graceful')
    s.is.equal(
      balance(ids, await s.fixture.received(), []),
      CLEAN,
      'the destination has every message exactly once',
    )
  },
}

const abortEndsSend: ProducerCheck = {
  title: 'ends a send in flight as soon as its exchange is aborted',
  applies: (c) => c.stall === true,
  async run(s) {
    const ctx = await s.open()
    // A first send sets the producer up (channel, connection), so the stalled one waits on the peer itself.
    s.is.equal((await s.send(ctx, 'warm')).exception, undefined, 'a send before the stall completes')
    await s.fixture.stall!()
    let settled = false
    const sending = s.send(ctx, 'stalled').finally(() => (settled = true))
    await until(
      () => ctx.inflight.size(CONFORMANCE_ROUTE_ID) > 0,
      s.t.waitMs,
      () => 'the send to be in flight',
    )
    await quiet(s.t.quietMs)
    s.is.that(!settled, 'a send to a stalled destination stays in flight')
    // A route stop that runs out of time aborts the exchange while the component and its peer stay as they are.
    await ctx.stopRoute(CONFORMANCE_ROUTE_ID, { timeoutMs: s.t.shortTimeoutMs })
    const ex = await within(
      sending,
      s.t.waitMs,
      'the aborted send to end while its destination is still stalled',
    )
    s.is.that(ex.exception !== undefined, 'an aborted send fails its exchange, it does not complete')
  },
}

const silentStop: ProducerCheck = {
  title: 'stops within timeoutMs + nowBudgetMs + 1 s and drops its connections when the peer goes silent',
  applies: (c) => c.silentPeer === true,
  async run(s) {
    const peer = silentPeerOf(s.fixture)
    const ctx = await s.open()
    s.is.equal((await s.send(ctx, 'before')).exception, undefined, 'a send before the silence completes')
    await peer.silence()
    const sending = s.send(ctx, 'unanswered')
    await until(
      () => ctx.inflight.size(CONFORMANCE_ROUTE_ID) > 0,
      s.t.waitMs,
      () => 'the send to be in flight',
    )
    const bound = s.t.shortTimeoutMs + s.t.nowBudgetMs + 1000
    await within(
      ctx.stop({ timeoutMs: s.t.shortTimeoutMs }),
      bound,
      `stop() to resolve within ${bound} ms with a silent peer`,
    )
    const ex = await within(sending, s.t.waitMs, 'the unanswered send to end once the context stopped')
    s.is.that(ex.exception !== undefined, 'a send the peer never confirmed fails its exchange')
    await connectionsDropped(peer, s.t.waitMs)
  },
}

const refusedAfterStop: ProducerCheck = {
  title: 'refuses a send once the context stopped, and delivers nothing',
  applies: () => true,
  async run(s) {
    const ctx = await s.open()
    s.is.equal((await s.send(ctx, 'warm')).exception, undefined, 'a send while running completes')
    await s.arrived(['warm'])
    await ctx.stop({ timeoutMs: s.t.stopTimeoutMs })
    const ex = await within(s.send(ctx, 'late'), s.t.waitMs, 'a send after stop to settle')
    s.is.that(ex.exception !== undefined, 'a send after the context stopped fails')
    await quiet(s.t.quietMs)
    s.is.equal(
      (await s.fixture.received()).filter((id) => id === 'late'),
      [],
      'nothing sent after stop arrives',
    )
  },
}

const CHECKS: readonly ProducerCheck[] = [deliversOnce, abortEndsSend, silentStop, refusedAfterStop]

/** The checks that apply to `subject`, as the test names `describeProducerConformance` registers. */
export function producerConformanceChecks(subject: ProducerSubject): string[] {
  return CHECKS.filter((c) => c.applies(subject.capabilities ?? {})).map((c) => c.title)
}

/**
 * Registers the producer conformance suite for `subject` with the caller's test runner: a route
 * `from(direct:…) → to(fixture.uri)` fed through a ProducerTemplate, observed at the destination.
 * @example describeProducerConformance({ describe, it, expect }, mySubject)
 */
export function describeProducerConformance(runner: ConformanceRunner, subject: ProducerSubject): void {
  runner.describe(`${subject.name} producer conformance`, () => {
    for (const check of CHECKS) {
      if (!check.applies(subject.capabilities ?? {})) continue
      runner.it(check.title, async () => {
        const fixture = await subject.setup()
        const contexts: IntegrationContext[] = []
        const t = timingsOf(subject.timings)
        const scope: ProducerScope = {
          fixture,
          t,
          is: new Asserts(runner.expect),
          n: subject.messages ?? 6,
          async open() {
            const ctx = createContext({
              name: 'conformance',
              logger: fixture.logger ?? false,
              metrics: false,
              shutdown: { timeoutMs: t.stopTimeoutMs, nowBudgetMs: t.nowBudgetMs },
              components: fixture.components?.() ?? {},
            })
            contexts.push(ctx)
            await ctx.addRoutes((r) => {
              r.from(INTAKE).routeId(CONFORMANCE_ROUTE_ID).to(fixture.uri)
            })
            await fixture.routes?.(ctx)
            await ctx.start()
            return ctx
          },
          send: (ctx, id) => ctx.producer().send(INTAKE, { id }),
          async arrived(ids) {
            let got: readonly string[] = []
            await until(
              async () => {
                got = await fixture.received()
                return ids.every((id) => got.includes(id))
              },
              t.waitMs,
              () => `the destination to receive ${ids.filter((id) => !got.includes(id)).join(', ')}`,
            )
            return got
          },
        }
        try {
          await check.run(scope)
        } finally {
          for (const ctx of contexts) if (ctx.status !== 'stopped') await ctx.forceStop()
          await fixture.teardown?.()
        }
      })
    }
  })
}
