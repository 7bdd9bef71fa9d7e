import { afterEach, describe, expect, it } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import { deferred, disposeContexts, flush, newContext } from '../support.js'
import { expectIntakeReopenedAfterAbortedStop, expectOutsideRefusedInsideAccepted } from './closing-intake.js'

afterEach(disposeContexts)

const E = CoreErrorCodes

describe('direct:', () => {
  it('is request-reply: the caller receives the body the consuming route ends with', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from<{ qty: number }>('direct:price').transform((ex) => ({ total: ex.message.body.qty * 3 })),
    )
    await ctx.start()
    await expect(ctx.producer().request('direct:price', { qty: 2 })).resolves.toEqual({ total: 6 })
  })

  it('hands the same exchange to the consuming route, so its headers come back too', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').setHeader('answered', 'yes'))
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null, { asked: 'q' })
    expect(ex.message.headers).toEqual({ asked: 'q', answered: 'yes' })
  })

  it('makes the caller wait until an asynchronous consuming route has finished', async () => {
    const gate = deferred()
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:slow')
        .process(() => gate.promise)
        .setBody('finished'),
    )
    await ctx.start()
    let settled = false
    const reply = ctx
      .producer()
      .request('direct:slow', null)
      .finally(() => (settled = true))
    await flush()
    expect(settled).toBe(false)
    gate.resolve()
    await expect(reply).resolves.toBe('finished')
  })

  it('fails a send with no consuming route with DROMEDARY_ERR_NO_CONSUMER naming the endpoint', async () => {
    const ctx = newContext()
    await ctx.start()
    const ex = await ctx.producer().send('direct:nobody', 'x')
    expect(isDromedaryError(ex.exception, E.NO_CONSUMER)).toBe(true)
    expect((ex.exception as Error).message).toContain('direct:nobody')
  })

  it('fails a route step sending to a direct endpoint nobody consumes', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').to('direct:nobody').to('mock:after'))
    await ctx.start()
    const err = await ctx
      .producer()
      .request('direct:a', null)
      .catch((e: unknown) => e)
    expect(isDromedaryError(err, E.NO_CONSUMER)).toBe(true)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('has no consumer while its route is not started', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:later').autoStartup(false))
    await ctx.start()
    const ex = await ctx.producer().send('direct:later', null)
    expect(isDromedaryError(ex.exception, E.NO_CONSUMER)).toBe(true)
  })

  it("raises the called route's failure to the caller", async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:a').to('direct:b').to('mock:after')
      r.from('direct:b').process(() => {
        throw new TypeError('bad in b')
      })
    })
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(ex.exception).toBeInstanceOf(TypeError)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('refuses a ProducerTemplate send once its intake closed, while an exchange in flight still reaches it', async () => {
    await expectOutsideRefusedInsideAccepted('direct:down')
  })

  it('takes ProducerTemplate sends again after a route stop aborted on timeout', async () => {
    await expectIntakeReopenedAfterAbortedStop('direct:down')
  })

  it('rejects sends once the context is at shutdown now with DROMEDARY_ERR_SHUTTING_DOWN', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a'))
    await ctx.start()
    await ctx.stop()
    const ex = await ctx.producer().send('direct:a', null)
    expect(isDromedaryError(ex.exception, E.SHUTTING_DOWN)).toBe(true)
  })

  it('accepts no options', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('direct:a?timeout=5').routeId('d'))).toThrow(
      expect.objectContaining({ code: E.UNKNOWN_OPTION }),
    )
  })

  it('needs a name', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('direct:').routeId('d'))).toThrow(
      expect.objectContaining({ code: E.INVALID_URI }),
    )
  })
})
