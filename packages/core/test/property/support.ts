// Helpers of the property tests (not a test file): run counts, a line saying how a property went, outcomes.
import type { IntegrationContext } from '@dromedary/core'
import fc from 'fast-check'

// Read before any test installs fake timers (they fake `performance` and `setImmediate` too).
const realNow = performance.now.bind(performance)
const realSetImmediate = globalThis.setImmediate

/**
 * Waits until every chain of microtasks has run to its end (a real macrotask turn, also under fake timers):
 * what is left waits on a timer. Checking invariants after fewer microtasks could catch a state half-way.
 */
export function quiesce(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve))
}

/**
 * The number of runs of a property: `normal` in the everyday suite, or `DROMEDARY_PROPERTY_RUNS` when set
 * (e.g. `DROMEDARY_PROPERTY_RUNS=20000 npx vitest run packages/core/test/property`). `DROMEDARY_PROPERTY_SEED`
 * and `DROMEDARY_PROPERTY_PATH` replay the seed and path that fast-check printed with a failure.
 */
export function propertyParameters(normal: number): fc.Parameters<unknown> & { numRuns: number } {
  const {
    DROMEDARY_PROPERTY_RUNS: runs,
    DROMEDARY_PROPERTY_SEED: seed,
    DROMEDARY_PROPERTY_PATH: path,
  } = process.env
  const numRuns = Number(runs ?? normal)
  if (!Number.isInteger(numRuns) || numRuns < 1)
    throw new Error(`DROMEDARY_PROPERTY_RUNS must be a positive integer, not ${runs}`)
  return {
    numRuns,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  }
}

/** A test timeout for a property of `normal` runs taking up to `perRunMs` each, scaled with the run count. */
export function propertyTimeout(normal: number, perRunMs: number): number {
  return 20_000 + propertyParameters(normal).numRuns * perRunMs
}

/**
 * Checks `property` with `propertyParameters(normal)` and prints `<name>: <runs> runs in <s> s` (fast-check
 * prints the seed and the shrunk counterexample when it fails).
 */
export async function assertProperty<Ts>(
  name: string,
  property: fc.IAsyncPropertyWithHooks<Ts>,
  normal: number,
): Promise<void> {
  const params = propertyParameters(normal)
  const started = realNow()
  await fc.assert(property, params)
  const seconds = ((realNow() - started) / 1000).toFixed(1)
  console.log(`${name}: ${params.numRuns} runs in ${seconds} s`)
}

/** An exchange outcome as `dromedary_exchanges_total` counts it. */
export type Outcome = 'completed' | 'failed' | 'aborted'

/** `dromedary_exchanges_total` of every route, by outcome. */
export async function outcomesByRoute(
  ctx: IntegrationContext,
): Promise<Map<string, Record<Outcome, number>>> {
  const out = new Map<string, Record<Outcome, number>>()
  const metric = ctx.metrics!.getSingleMetric('dromedary_exchanges_total')!
  for (const v of (await metric.get()).values) {
    const route = String(v.labels.route)
    const o = out.get(route) ?? { completed: 0, failed: 0, aborted: 0 }
    o[v.labels.outcome as Outcome] += v.value
    out.set(route, o)
  }
  return out
}

/** `dromedary_messages_dropped_total` (messages left in a queue no running route reads) by endpoint. */
export async function droppedByEndpoint(ctx: IntegrationContext): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const metric = ctx.metrics!.getSingleMetric('dromedary_messages_dropped_total')!
  for (const v of (await metric.get()).values) out.set(String(v.labels.endpoint), v.value)
  return out
}
