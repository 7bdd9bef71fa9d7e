// abortableExchange / abortReason: a producer's wait that ends at once when its exchange is aborted, without
// making the exchange's AbortSignal.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { abortableExchange, abortReason, type Component, type Exchange } from '@dromedary/core'
import { DefaultExchange } from '../../src/exchange/exchange.js'
import { deferred, disposeContexts, exchangesTotal, newContext } from '../support.js'

afterEach(async () => {
  vi.restoreAllMocks()
  await disposeContexts()
})

const newExchange = () => new DefaultExchange('r', 'direct:r', 'body', {})

describe('abortableExchange', () => {
  it('settles as the promise does, and an abort afterwards touches nothing', async () => {
    const ex = newExchange()
    await expect(abortableExchange(Promise.resolve(7), ex)).resolves.toBe(7)
    await expect(abortableExchange(Promise.reject(new Error('nack')), ex)).rejects.toThrow('nack')
    expect(ex.abort('late')).toBe(true)
    expect(abortReason(ex)).toBe('late')
  })

  it('rejects with the reason as soon as the exchange is aborted; a built-in wait is cancelled as well', async () => {
    const ex = newExchange()
    const builtIn = vi.fn()
    ex.waiting = builtIn
    const waiting = abortableExchange(new Promise<void>(() => undefined), ex)
    expect(abortReason(ex)).toBeUndefined()
    ex.abort('forced shutdown')
    await expect(waiting).rejects.toBe('forced shutdown')
    expect(builtIn).toHaveBeenCalledTimes(1)
    expect(abortReason(ex)).toBe('forced shutdown')
  })

  it('still ends when a built-in wait on the same exchange came and went meanwhile', async () => {
    const ex = newExchange()
    const waiting = abortableExchange(new Promise<void>(() => undefined), ex)
    // What a delay, a full seda queue or a worker-group queue does with the exchange's wait slot.
    ex.waiting = () => undefined
    ex.waiting = undefined
    ex.abort('stopRoute')
    await expect(waiting).rejects.toBe('stopRoute')
  })

  it('ends every wait of an exchange, whichever settled first', async () => {
    const ex = newExchange()
    const first = deferred()
    const a = abortableExchange(first.promise, ex)
    const b = abortableExchange(new Promise<void>(() => undefined), ex)
    const c = abortableExchange(new Promise<void>(() => undefined), ex)
    first.resolve()
    await expect(a).resolves.toBeUndefined()
    ex.abort('forced shutdown')
    await expect(b).rejects.toBe('forced shutdown')
    await expect(c).rejects.toBe('forced shutdown')
  })

  it('rejects at once for an exchange aborted already, and the late rejection of the promise is handled', async () => {
    const ex = newExchange()
    ex.abort('stopRoute')
    const late = deferred()
    const waiting = abortableExchange(late.promise, ex)
    late.reject(new Error('channel closed'))
    await expect(waiting).rejects.toBe('stopRoute')
  })

  it('never makes the exchange’s signal: aborting it aborts no AbortController', async () => {
    const made = vi.spyOn(AbortController.prototype, 'abort')
    const ex = newExchange()
    const waiting = abortableExchange(new Promise<void>(() => undefined), ex)
    ex.abort('x')
    await expect(waiting).rejects.toBe('x')
    expect(made).not.toHaveBeenCalled()
  })

  it('falls back to the signal for an Exchange that is not the engine’s own', async () => {
    const controller = new AbortController()
    const ex = { signal: controller.signal } as unknown as Exchange
    const waiting = abortableExchange(new Promise<void>(() => undefined), ex)
    expect(abortReason(ex)).toBeUndefined()
    controller.abort('gone')
    await expect(waiting).rejects.toBe('gone')
    expect(abortReason(ex)).toBe('gone')
  })

  it('ends a producer’s wait when a forced stopRoute aborts the exchange', async () => {
    const entered = deferred()
    const ended = deferred<unknown>()
    const component: Component = {
      createEndpoint: (uri) => ({
        uri: uri.uri,
        createProducer: () => ({
          process: async (ex) => {
            entered.resolve()
            await abortableExchange(new Promise<void>(() => undefined), ex).catch((err: unknown) => {
              ended.resolve(err)
              throw err
            })
          },
        }),
      }),
    }
    const ctx = newContext({ components: { hang: component } })
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').to('hang:x'))
    await ctx.start()
    await ctx.producer().send('seda:a', 'x')
    await entered.promise
    await expect(ctx.stopRoute('a', { timeoutMs: 20 })).resolves.toBe(true)
    expect(await ended.promise).toBe('forced shutdown')
    await ctx.inflight.whenEmpty()
    expect(await exchangesTotal(ctx, 'a', 'aborted')).toBe(1)
  })
})
