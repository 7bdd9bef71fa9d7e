// How many runs a property gets, and a line saying how it went (not a test file).
import fc from 'fast-check'

// Read before any test installs fake timers (they fake `performance` too).
const realNow = performance.now.bind(performance)

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
