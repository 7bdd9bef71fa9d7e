// Property: whatever mix of sends (seda and direct), failing steps, suspends and resumes happens before a
// stop, in-flight counts return to 0 and every exchange is counted exactly once, as completed or failed.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CoreErrorCodes, createContext, isDromedaryError } from '@dromedary/core'
import type { Exchange } from '@dromedary/core'
import { exchangesTotal } from '../support.js'

type Target = 'seda' | 'direct'

interface Payload {
  readonly id: number
  readonly fail: boolean
  readonly async: boolean
}

type Command =
  | { readonly kind: 'send'; readonly to: Target; readonly fail: boolean; readonly async: boolean }
  | { readonly kind: 'suspend'; readonly route: Target }
  | { readonly kind: 'resume'; readonly route: Target }
  | { readonly kind: 'tick' }

const target = fc.constantFrom<Target>('seda', 'direct')
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      to: target,
      fail: fc.boolean(),
      async: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('suspend' as const), route: target }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), route: target }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
)

const ROUTE: Record<Target, string> = { seda: 'sq', direct: 'dq' }
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

async function step(ex: Exchange<Payload>): Promise<void> {
  if (ex.message.body.async) await tick()
  if (ex.message.body.fail) throw new Error(`fail ${ex.message.body.id}`)
}

function syncStep(ex: Exchange<Payload>): void {
  if (ex.message.body.fail) throw new Error(`fail ${ex.message.body.id}`)
}

async function runScenario(commands: readonly Command[]): Promise<void> {
  const ctx = createContext({ logger: false, name: 'prop' })
  await ctx.addRoutes((r) => {
    for (const to of ['seda', 'direct'] as const) {
      const from = to === 'seda' ? 'seda:in?concurrentConsumers=2' : 'direct:in'
      r.from<Payload>(from)
        .routeId(ROUTE[to])
        .choice((c) =>
          c
            .when(
              (ex) => ex.message.body.async,
              (b) => b.process(step),
            )
            .otherwise((b) => b.process(syncStep)),
        )
        .to(`mock:${to}`)
    }
  })
  await ctx.start()

  // The model: what each route must have counted once everything settled.
  const expected = {
    seda: { completed: new Set<number>(), failed: new Set<number>() },
    direct: { completed: new Set<number>(), failed: new Set<number>() },
  }
  const suspended = new Set<Target>()
  const inFlight: Array<Promise<unknown>> = []
  let nextId = 0

  for (const cmd of commands) {
    if (cmd.kind === 'tick') {
      await tick()
    } else if (cmd.kind === 'suspend') {
      await ctx.suspendRoute(ROUTE[cmd.route])
      suspended.add(cmd.route)
    } else if (cmd.kind === 'resume') {
      await ctx.resumeRoute(ROUTE[cmd.route])
      suspended.delete(cmd.route)
    } else {
      const body: Payload = { id: nextId++, fail: cmd.fail, async: cmd.async }
      if (cmd.to === 'direct' && suspended.has('direct')) {
        // A suspended direct route has no consumer: the send fails before any route sees it.
        const ex = await ctx.producer().send('direct:in', body)
        expect(isDromedaryError(ex.exception, CoreErrorCodes.NO_CONSUMER)).toBe(true)
        continue
      }
      expected[cmd.to][cmd.fail ? 'failed' : 'completed'].add(body.id)
      const sent = ctx.producer().send(`${cmd.to}:in`, body)
      if (cmd.to === 'seda') expect((await sent).exception).toBeUndefined()
      else inFlight.push(sent) // direct sends overlap with the commands that follow
    }
  }

  // An operator resumes what is suspended, then stops: the seda backlog drains, nothing is left over.
  for (const t of suspended) await ctx.resumeRoute(ROUTE[t])
  const report = await ctx.stop({ timeoutMs: 10_000 })
  await Promise.all(inFlight)

  expect(report.graceful).toBe(true)
  expect(ctx.inflight.size()).toBe(0)
  expect(ctx.inflight.browse()).toEqual([])
  for (const r of ctx.routes())
    expect({ id: r.id, inflight: r.inflight, pending: r.pending }).toEqual({
      id: r.id,
      inflight: 0,
      pending: 0,
    })

  for (const to of ['seda', 'direct'] as const) {
    const route = ROUTE[to]
    const want = expected[to]
    expect(await exchangesTotal(ctx, route, 'completed')).toBe(want.completed.size)
    expect(await exchangesTotal(ctx, route, 'failed')).toBe(want.failed.size)
    expect(await exchangesTotal(ctx, route, 'aborted')).toBe(0)
    // Exactly once: every completed exchange reached the mock once, no failed one ever did.
    const received = ctx.mock(to).receivedExchanges.map((e) => (e.message.body as Payload).id)
    expect(received.length).toBe(new Set(received).size)
    expect(new Set(received)).toEqual(want.completed)
  }
}

describe('exchange accounting', () => {
  it('returns in-flight counts to 0 and counts every exchange exactly once as completed or failed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), (commands) => runScenario(commands)),
      { numRuns: 150 },
    )
  })

  it('holds for a known tricky mix: suspend with async exchanges in flight, backlog, resume', async () => {
    await runScenario([
      { kind: 'send', to: 'seda', fail: false, async: true },
      { kind: 'send', to: 'direct', fail: true, async: true },
      { kind: 'suspend', route: 'seda' },
      { kind: 'suspend', route: 'direct' },
      { kind: 'send', to: 'seda', fail: true, async: false },
      { kind: 'send', to: 'direct', fail: false, async: false },
      { kind: 'tick' },
      { kind: 'resume', route: 'seda' },
      { kind: 'send', to: 'seda', fail: false, async: false },
    ])
  })
})
