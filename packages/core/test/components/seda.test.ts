import { afterEach, describe, expect, it } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import { expectIntakeReopenedAfterAbortedStop, expectOutsideRefusedInsideAccepted } from './closing-intake.js'
import { deferred, disposeContexts, exchangesTotal, flush, newContext } from '../support.js'
import type { Deferred } from '../support.js'

afterEach(disposeContexts)

const E = CoreErrorCodes

/** A route body that counts how many exchanges run at once and holds each until `release()`. */
function concurrencyProbe() {
  let running = 0
  let max = 0
  let gate = deferred()
  const waiters: Array<{ n: number; d: Deferred<void> }> = []
  return {
    get running() {
      return running
    },
    get max() {
      return max
    },
    /** Resolves once `n` exchanges are running at the same time. */
    until(n: number) {
      const d = deferred()
      if (running >= n) d.resolve()
      else waiters.push({ n, d })
      return d.promise
    },
    release() {
      gate.resolve()
      gate = deferred()
    },
    step: async () => {
      running++
      max = Math.max(max, running)
      for (const w of waiters.splice(0)) {
        if (running >= w.n) w.d.resolve()
        else waiters.push(w)
      }
      await gate.promise
      running--
    },
  }
}

describe('seda:', () => {
  it('does not make the sender wait for the consuming route', async () => {
    const gate = deferred()
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:q')
        .process(() => gate.promise)
        .to('mock:out'),
    )
    await ctx.start()
    const ex = await ctx.producer().send('seda:q', 'm')
    expect(ex.exception).toBeUndefined()
    expect(ctx.mock('out').receivedExchanges).toHaveLength(0)
    gate.resolve()
    await ctx.mock('out').expectedBodiesReceived('m').assertIsSatisfied({ timeoutMs: 1000 })
  })

  it('delivers messages in the order they were sent', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q').to('mock:out'))
    await ctx.start()
    for (let i = 0; i < 20; i++) await ctx.producer().send('seda:q', i)
    await ctx
      .mock('out')
      .expectedBodiesReceived(...Array.from({ length: 20 }, (_, i) => i))
      .assertIsSatisfied()
  })

  it('gives the consuming route its own exchange with copies of body reference and headers', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q').routeId('q').setHeader('consumer', true).to('mock:out'))
    await ctx.start()
    const sent = await ctx.producer().send('seda:q', 'm', { h: 1 })
    await ctx.mock('out').expectedMessageCount(1).assertIsSatisfied()
    const got = ctx.mock('out').receivedExchanges[0]!
    expect(got.id).not.toBe(sent.id)
    expect(got.fromRouteId).toBe('q')
    expect(got.message.headers).toEqual({ h: 1, consumer: true })
    expect(sent.message.headers).toEqual({ h: 1 })
  })

  it('copies a header named __proto__ to the consuming exchange as a plain header', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q').routeId('q').setHeader('consumer', true).to('mock:out'))
    await ctx.start()
    const headers = JSON.parse('{"__proto__": {"polluted": true}, "h": 1}') as Record<string, unknown>
    await ctx.producer().send('seda:q', 'm', headers)
    await ctx.mock('out').expectedMessageCount(1).assertIsSatisfied()
    const got = ctx.mock('out').receivedExchanges[0]!.message.headers
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype)
    expect(Object.keys(got)).toEqual(['__proto__', 'h', 'consumer'])
    expect((got as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('runs one exchange at a time by default', async () => {
    const probe = concurrencyProbe()
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q').process(probe.step).to('mock:out'))
    await ctx.start()
    for (let i = 0; i < 3; i++) await ctx.producer().send('seda:q', i)
    await probe.until(1)
    await flush()
    expect(probe.running).toBe(1)
    for (let i = 0; i < 3; i++) {
      probe.release()
      await flush()
    }
    await ctx.mock('out').expectedMessageCount(3).assertIsSatisfied()
    expect(probe.max).toBe(1)
  })

  it('runs at most concurrentConsumers exchanges at once', async () => {
    const probe = concurrencyProbe()
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('seda:q?concurrentConsumers=3').routeId('q').process(probe.step).to('mock:out'),
    )
    await ctx.start()
    for (let i = 0; i < 10; i++) await ctx.producer().send('seda:q', i)
    await probe.until(3)
    await flush()
    expect(probe.running).toBe(3)
    expect(ctx.routes()[0]).toMatchObject({ inflight: 3, pending: 7 })
    while (ctx.mock('out').receivedExchanges.length < 10) {
      probe.release()
      await flush()
    }
    expect(probe.max).toBe(3)
  })

  it('fails a send to a full queue with DROMEDARY_ERR_QUEUE_FULL naming queue and size', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q?size=2').autoStartup(false).to('mock:out'))
    await ctx.start()
    expect((await ctx.producer().send('seda:q', 1)).exception).toBeUndefined()
    expect((await ctx.producer().send('seda:q', 2)).exception).toBeUndefined()
    const ex = await ctx.producer().send('seda:q', 3)
    expect(isDromedaryError(ex.exception, E.QUEUE_FULL)).toBe(true)
    expect((ex.exception as Error).message).toMatch(/seda:\/\/q.*size 2/)
  })

  it('holds 1000 messages by default', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q').autoStartup(false))
    await ctx.start()
    for (let i = 0; i < 1000; i++) expect((await ctx.producer().send('seda:q', i)).exception).toBeUndefined()
    const ex = await ctx.producer().send('seda:q', 1000)
    expect(isDromedaryError(ex.exception, E.QUEUE_FULL)).toBe(true)
  })

  it('fails the sending route when the queue is full', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:in').routeId('in').to('seda:q')
      r.from('seda:q?size=1').routeId('q').autoStartup(false)
    })
    await ctx.start()
    await ctx.producer().request('direct:in', 1)
    await expect(ctx.producer().request('direct:in', 2)).rejects.toMatchObject({ code: E.QUEUE_FULL })
    expect(await exchangesTotal(ctx, 'in', 'failed')).toBe(1)
  })

  it('with blockWhenFull=true makes the sender wait for space instead of failing', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q?size=1').routeId('q').autoStartup(false).to('mock:out'))
    await ctx.start()
    await ctx.producer().send('seda:q?blockWhenFull=true', 1)
    let settled = false
    const second = ctx
      .producer()
      .send('seda:q?blockWhenFull=true', 2)
      .finally(() => (settled = true))
    await flush()
    expect(settled).toBe(false)
    await ctx.startRoute('q')
    expect((await second).exception).toBeUndefined()
    await ctx.mock('out').expectedBodiesReceived(1, 2).assertIsSatisfied()
  })

  it('counts queued messages as pending on the consuming route', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q').routeId('q'))
    await ctx.start()
    await ctx.suspendRoute('q')
    for (let i = 0; i < 3; i++) await ctx.producer().send('seda:q', i)
    expect(ctx.routes()[0]).toMatchObject({ inflight: 0, pending: 3 })
  })

  it('drains its backlog before a graceful stop completes', async () => {
    const gate = deferred()
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:q')
        .routeId('q')
        .process(() => gate.promise)
        .to('mock:out'),
    )
    await ctx.start()
    for (let i = 0; i < 5; i++) await ctx.producer().send('seda:q', i)
    const stopping = ctx.stop({ timeoutMs: 5000 })
    await flush()
    gate.resolve()
    const report = await stopping
    expect(report.graceful).toBe(true)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(5)
  })

  it('counts a failure in the consuming route as failed there without touching the sender', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:q')
        .routeId('q')
        .process(() => {
          throw new Error('consumer side')
        }),
    )
    await ctx.start()
    const ex = await ctx.producer().send('seda:q', null)
    expect(ex.exception).toBeUndefined()
    await ctx.inflight.whenEmpty()
    await flush()
    expect(await exchangesTotal(ctx, 'q', 'failed')).toBe(1)
  })

  it('refuses a ProducerTemplate send once its intake closed, while an exchange in flight still reaches it', async () => {
    await expectOutsideRefusedInsideAccepted('seda:down')
  })

  it('takes ProducerTemplate sends again after a route stop aborted on timeout', async () => {
    await expectIntakeReopenedAfterAbortedStop('seda:down')
  })

  it('rejects sends once the context is at shutdown now with DROMEDARY_ERR_SHUTTING_DOWN', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:q'))
    await ctx.start()
    await ctx.stop()
    const ex = await ctx.producer().send('seda:q', null)
    expect(isDromedaryError(ex.exception, E.SHUTTING_DOWN)).toBe(true)
  })

  it('rejects concurrentConsumers=0 and a fractional size at addRoutes', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('seda:a?concurrentConsumers=0'))).toThrow(
      expect.objectContaining({ code: E.INVALID_OPTION }),
    )
    expect(() => ctx.addRoutes((r) => r.from('seda:b?size=1.5'))).toThrow(
      expect.objectContaining({ code: E.INVALID_OPTION }),
    )
  })

  it('allows one consuming route per queue', () => {
    const ctx = newContext()
    void ctx.addRoutes((r) => r.from('seda:q').routeId('one'))
    expect(() => ctx.addRoutes((r) => r.from('seda:q?concurrentConsumers=2').routeId('two'))).toThrow(
      expect.objectContaining({ code: E.DUPLICATE_CONSUMER }),
    )
  })
})
