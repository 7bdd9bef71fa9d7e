// Property (issue 15): for random routes mixing sync, async and throwing steps, throwing matchers, dead letters
// of every built-in scheme, split and multicast, and random forced stops, every exchange ends exactly once, with
// the outcome the error-handling rules give, and the in-flight repository returns to 0.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import type { IntegrationContext, RouteBuilder } from '@dromedary/core'
import { disposeContexts, exchangesTotal, newContext } from '../support.js'

afterEach(disposeContexts)

const RUNS = Number(process.env.DROMEDARY_PROPERTY_RUNS ?? 200)

type StepKind = 'sync' | 'async' | 'throwSync' | 'throwAsync' | 'split' | 'multicast' | 'wait'
type Dlq = 'none' | 'mock' | 'seda' | 'direct' | 'directFailing'
type Matcher = 'all' | 'none' | 'throws'
interface Plan {
  readonly steps: readonly StepKind[]
  readonly onException:
    { readonly matcher: Matcher; readonly redeliveries: number; readonly dlq: Dlq } | undefined
  readonly messages: number
  readonly forceAfterMicrotasks: number | undefined
}

const plan: fc.Arbitrary<Plan> = fc.record({
  steps: fc.array(
    fc.constantFrom<StepKind>('sync', 'async', 'throwSync', 'throwAsync', 'split', 'multicast', 'wait'),
    {
      maxLength: 5,
    },
  ),
  onException: fc.option(
    fc.record({
      matcher: fc.constantFrom<Matcher>('all', 'none', 'throws'),
      redeliveries: fc.integer({ min: 0, max: 2 }),
      dlq: fc.constantFrom<Dlq>('none', 'mock', 'seda', 'direct', 'directFailing'),
    }),
    { nil: undefined },
  ),
  messages: fc.integer({ min: 1, max: 6 }),
  forceAfterMicrotasks: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
})

const DLQ_URI: Record<Exclude<Dlq, 'none'>, string> = {
  mock: 'mock:dlq',
  seda: 'seda:dlq',
  direct: 'direct:dlq',
  directFailing: 'direct:dlq-fail',
}

/** The outcome the rules of onException give a message that met a failing step (no abort). */
function failureOutcome(p: Plan): 'completed' | 'failed' {
  const c = p.onException
  if (c === undefined || c.matcher !== 'all') return 'failed'
  if (c.dlq === 'none' || c.dlq === 'directFailing') return 'failed'
  return 'completed'
}

function addSteps(b: RouteBuilder<unknown>, steps: readonly StepKind[]): void {
  for (const s of steps) {
    switch (s) {
      case 'sync':
        b.process(() => undefined)
        break
      case 'async':
        b.process(async () => undefined)
        break
      case 'throwSync':
        b.process(() => {
          throw new Error('step failed')
        })
        break
      case 'throwAsync':
        b.process(async () => {
          throw new Error('step failed')
        })
        break
      case 'split':
        b.split(
          () => [1, 2],
          (part) => part.process(async () => undefined).to('mock:part'),
          { parallel: true },
        )
        break
      case 'multicast':
        b.multicast(['mock:m1', 'direct:echo'])
        break
      case 'wait':
        // Ends when the exchange is aborted, or after a moment.
        b.process(
          (ex) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 2)
              ex.signal.addEventListener('abort', () => {
                clearTimeout(t)
                resolve()
              })
            }),
        )
        break
    }
  }
}

async function build(p: Plan): Promise<IntegrationContext> {
  const ctx = newContext()
  await ctx.addRoutes((r) => {
    const b = r.from('direct:in').routeId('in')
    const c = p.onException
    if (c !== undefined) {
      const matcher =
        c.matcher === 'all'
          ? () => true
          : c.matcher === 'none'
            ? () => false
            : (e: unknown) => (e as { response: { status: number } }).response.status === 503
      b.onException(matcher, {
        maximumRedeliveries: c.redeliveries,
        redeliveryDelayMs: 0,
        ...(c.dlq === 'none' ? {} : { to: DLQ_URI[c.dlq] }),
      })
    }
    addSteps(b, p.steps)
    r.from('seda:dlq').routeId('seda-dlq').to('mock:parked')
    r.from('direct:dlq').routeId('direct-dlq').to('mock:parked')
    r.from('direct:dlq-fail')
      .routeId('direct-dlq-fail')
      .process(() => {
        throw new Error('dead letter down')
      })
    r.from('direct:echo')
      .routeId('echo')
      .process(async () => undefined)
  })
  await ctx.start()
  return ctx
}

describe('error handling and aborts (property)', () => {
  it('ends every exchange exactly once with the outcome the rules give, and leaves nothing in flight', async () => {
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const ctx = await build(p)
        const sends = Array.from({ length: p.messages }, (_, i) => ctx.producer().send('direct:in', i))
        let report
        if (p.forceAfterMicrotasks !== undefined) {
          for (let i = 0; i < p.forceAfterMicrotasks; i++) await Promise.resolve()
          report = await ctx.forceStop()
        }
        const exchanges = await Promise.all(sends)
        if (report === undefined) report = await ctx.stop({ timeoutMs: 2000 })
        await ctx.inflight.whenEmpty()
        expect(ctx.inflight.size()).toBe(0)

        const completed = (await exchangesTotal(ctx, 'in', 'completed')) ?? 0
        const failed = (await exchangesTotal(ctx, 'in', 'failed')) ?? 0
        const aborted = (await exchangesTotal(ctx, 'in', 'aborted')) ?? 0
        // Exactly once: one outcome per message sent.
        expect(completed + failed + aborted).toBe(p.messages)
        // What the caller saw agrees with what was counted.
        expect(exchanges.filter((ex) => ex.exception === undefined)).toHaveLength(completed)
        if (p.forceAfterMicrotasks === undefined) {
          expect(aborted).toBe(0)
          const throws = p.steps.some((s) => s === 'throwSync' || s === 'throwAsync')
          expect(throws ? failureOutcome(p) : 'completed').toBe(
            completed === p.messages ? 'completed' : 'failed',
          )
          expect(report.graceful).toBe(true)
        }
      }),
      { numRuns: RUNS },
    )
  })
})
