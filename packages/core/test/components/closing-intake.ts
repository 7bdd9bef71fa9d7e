// Shared by the seda and direct suites (not a test file: vitest only collects *.test.ts).
import { CoreErrorCodes, DefaultShutdownStrategy, isDromedaryError } from '@dromedary/core'
import type { Exchange, IntegrationContext } from '@dromedary/core'
import { expect } from 'vitest'
import { deferred, newContext } from '../support.js'

/**
 * Route `up` (`direct:up`) holds its exchange, then sends it to `target`, consumed by route `down` into
 * `mock:down`. The context's stop first closes `down`'s intake, sends `outside` to `target` from a
 * ProducerTemplate, then lets `up` go on and finishes as the default strategy does. Checks that the outside send
 * was refused with DROMEDARY_ERR_SHUTTING_DOWN while `up`'s exchange, in flight, still reached `down`.
 */
export async function expectOutsideRefusedInsideAccepted(target: string): Promise<void> {
  const gate = deferred()
  let outside: Exchange | undefined
  const ctx: IntegrationContext = newContext({
    shutdownStrategy: {
      async shutdown(s, options) {
        await s.routes.find((r) => r.id === 'down')!.prepareShutdown({ forced: false })
        outside = await ctx.producer().send(target, 'outside')
        gate.resolve()
        return new DefaultShutdownStrategy({ timeoutMs: 5000 }).shutdown(s, options)
      },
    },
  })
  await ctx.addRoutes((r) => {
    r.from('direct:up')
      .routeId('up')
      .process(() => gate.promise)
      .to(target)
    r.from(target).routeId('down').to('mock:down')
  })
  await ctx.start()
  const inside = ctx.producer().send('direct:up', 'inside')
  const report = await ctx.stop()
  expect(report.graceful).toBe(true)
  expect(isDromedaryError(outside?.exception, CoreErrorCodes.SHUTTING_DOWN)).toBe(true)
  expect((await inside).exception).toBeUndefined()
  expect(ctx.mock('down').receivedExchanges.map((ex) => ex.message.body)).toEqual(['inside'])
}

/** A route stop aborted on timeout leaves the intake of `target` open again for ProducerTemplate sends. */
export async function expectIntakeReopenedAfterAbortedStop(target: string): Promise<void> {
  const gate = deferred()
  const ctx = newContext()
  await ctx.addRoutes((r) =>
    r
      .from(target)
      .routeId('down')
      .process(() => gate.promise)
      .to('mock:down'),
  )
  await ctx.start()
  const held = ctx.producer().send(target, 'held')
  await expect(ctx.stopRoute('down', { timeoutMs: 20, abortAfterTimeout: true })).resolves.toBe(false)
  gate.resolve()
  const again = await ctx.producer().send(target, 'again')
  expect(again.exception).toBeUndefined()
  expect((await held).exception).toBeUndefined()
  await ctx.stop()
  expect(ctx.mock('down').receivedExchanges.map((ex) => ex.message.body)).toEqual(['held', 'again'])
}
