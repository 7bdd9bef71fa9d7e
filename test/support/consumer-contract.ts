/**
 * The shutdown contract of a broker consumer, written against a small harness so every transport runs the same
 * checks (and so it can move into core's conformance kit): a graceful stop in the middle of a load loses and
 * duplicates nothing and the next instance drains the rest, in both `shutdownRunningTask` modes; a forced stop
 * hands every unfinished message back at once (not after a broker timeout).
 */
import type { IntegrationContext, ShutdownRunningTask } from '@dromedary/core'
import { describe, expect, it } from 'vitest'

/** One source of messages `{ n }` for n = 0 … count-1, and its consumer endpoint. */
export interface ContractSource {
  /** The `from(…)` URI of a consumer taking at most `batch` messages at once. */
  readonly uri: string
  /** Messages not yet acknowledged at the source (waiting, handed back or held). */
  remaining(): Promise<number>
}

/** What a transport gives the contract. */
export interface ContractHarness {
  /** Fills a fresh source (unique name) with `count` messages and returns it. */
  source(count: number, batch: number): Promise<ContractSource>
  /** A new context with the transport's component registered, force-stopped after the test if left running. */
  context(): IntegrationContext
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1))

/** Registers the contract's tests in the current file. */
export function consumerShutdownContract(name: string, harness: () => ContractHarness): void {
  describe(`${name} consumer shutdown contract`, () => {
    for (const task of ['completeCurrentTaskOnly', 'completeAllTasks'] as const) {
      it(`a graceful stop under load (${task}) loses and duplicates nothing; a second context drains the rest`, async () => {
        const h = harness()
        const total = 400
        const source = await h.source(total, 20)
        const seen = new Map<number, number>()
        const record = (n: number) => seen.set(n, (seen.get(n) ?? 0) + 1)
        const first = await run(h, source.uri, task, record, () => seen.size >= 60)
        const report = await first.stop()
        expect(report.graceful).toBe(true)
        const afterFirst = seen.size
        expect(afterFirst).toBeGreaterThanOrEqual(60)
        expect(afterFirst).toBeLessThan(total)

        const second = await run(h, source.uri, task, record, () => seen.size === total)
        await second.whenDone
        await second.stop()
        expect([...seen.values()].filter((times) => times > 1)).toEqual([])
        expect(seen.size).toBe(total)
        expect(await source.remaining()).toBe(0)
      })
    }

    it('a forced stop hands every unfinished message back at once', async () => {
      const h = harness()
      const source = await h.source(30, 5)
      let started = 0
      const stuck = deferredCount(5)
      const first = h.context()
      await first.addRoutes((r) =>
        r.from<{ n: number }>(source.uri).process(async () => {
          started++
          stuck.hit()
          // Ignores its abort signal: only handing the message back frees it.
          await new Promise(() => undefined)
        }),
      )
      await first.start()
      await stuck.promise
      const report = await first.forceStop()
      expect(report.forced).toBe(true)
      expect(started).toBe(5)

      const seen = new Set<number>()
      const all = deferredCount(30)
      const second = h.context()
      await second.addRoutes((r) =>
        r.from<{ n: number }>(source.uri).process((ex) => {
          if (!seen.has(ex.message.body.n)) all.hit()
          seen.add(ex.message.body.n)
        }),
      )
      const t0 = Date.now()
      await second.start()
      await all.promise
      // Handed back, not left for a broker timeout (ack_wait / minIdleMs are 30 s and more in these suites).
      expect(Date.now() - t0).toBeLessThan(15_000)
      await second.stop()
      expect(seen.size).toBe(30)
      expect(await source.remaining()).toBe(0)
    })
  })
}

async function run(
  h: ContractHarness,
  uri: string,
  task: ShutdownRunningTask,
  record: (n: number) => void,
  done: () => boolean,
): Promise<{ stop: IntegrationContext['stop']; whenDone: Promise<void> }> {
  const ctx = h.context()
  let resolve!: () => void
  const whenDone = new Promise<void>((r) => (resolve = r))
  let fired = false
  await ctx.addRoutes((r) =>
    r
      .from<{ n: number }>(uri)
      .shutdownRunningTask(task)
      .process(async (ex) => {
        await tick()
        record(ex.message.body.n)
        if (!fired && done()) {
          fired = true
          resolve()
        }
      }),
  )
  await ctx.start()
  await whenDone
  return { stop: (o) => ctx.stop(o), whenDone }
}

function deferredCount(n: number): { promise: Promise<void>; hit(): void } {
  let left = n
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return {
    promise,
    hit() {
      if (--left === 0) resolve()
    },
  }
}
