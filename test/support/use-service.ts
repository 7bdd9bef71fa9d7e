/**
 * Suite hooks for a test oracle that talks to a real service: connects it once, makes every test FAIL (never
 * skip) with the reason when the service is unreachable, force-stops the contexts a test left running and runs
 * the oracle's clean-up after each test.
 */
import type { IntegrationContext } from '@dromedary/core'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'

/** What an oracle needs for the hooks. */
export interface ServiceOracle {
  cleanup(): Promise<void>
  close(): Promise<void>
}

export function useService<T extends ServiceOracle>(
  connect: () => Promise<T>,
): { readonly oracle: T; track(ctx: IntegrationContext): IntegrationContext } {
  let oracle: T | undefined
  let unreachable: unknown
  const contexts: IntegrationContext[] = []
  beforeAll(async () => {
    try {
      oracle = await connect()
    } catch (err) {
      unreachable = err
    }
  })
  beforeEach(() => {
    if (unreachable !== undefined) throw unreachable
  })
  afterEach(async () => {
    for (const ctx of contexts.splice(0)) if (ctx.status !== 'stopped') await ctx.forceStop()
    await oracle?.cleanup()
  })
  afterAll(async () => {
    await oracle?.close()
  })
  return {
    get oracle() {
      if (oracle === undefined) throw new Error('the test oracle is not connected')
      return oracle
    },
    track(ctx) {
      contexts.push(ctx)
      return ctx
    },
  }
}

/** The error a suite fails with when its service is down (a failure, never a skip, under CI). */
export function unreachableError(service: string, where: string, err: unknown, howToStart: string): Error {
  const why = err instanceof Error ? err.message : String(err)
  return new Error(
    `${service} is not reachable at ${where} (${why}). The suites need a real server` +
      `${process.env.CI === undefined ? '' : ' (CI is set: this is a failure, not a skip)'}; ${howToStart}.`,
  )
}
