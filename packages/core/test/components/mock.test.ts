import { afterEach, describe, expect, it, vi } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import type { IntegrationContext } from '@dromedary/core'
import { disposeContexts, newContext } from '../support.js'

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

const E = CoreErrorCodes

async function withMock(): Promise<IntegrationContext> {
  const ctx = newContext()
  await ctx.addRoutes((r) => {
    r.from('direct:in').to('mock:out')
    r.from('seda:later').to('mock:out')
  })
  await ctx.start()
  return ctx
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof Error)) throw new Error('expected a rejection')
  return err
}

describe('mock:', () => {
  it('records received exchanges in arrival order', async () => {
    const ctx = await withMock()
    await ctx.producer().send('direct:in', 'a')
    await ctx.producer().send('direct:in', 'b')
    expect(ctx.mock('out').receivedExchanges.map((e) => e.message.body)).toEqual(['a', 'b'])
  })

  it('records the body as it was when the exchange arrived', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:in').to('mock:before').setBody('changed').setHeader('late', 1))
    await ctx.start()
    await ctx.producer().send('direct:in', 'original')
    expect(ctx.mock('before').receivedExchanges[0]?.message).toEqual({ body: 'original', headers: {} })
  })

  it('is the same endpoint whether reached by ctx.mock before or after the route uses it', async () => {
    const ctx = newContext()
    const early = ctx.mock('out')
    await ctx.addRoutes((r) => r.from('direct:in').to('mock:out'))
    await ctx.start()
    await ctx.producer().send('direct:in', 1)
    expect(early.receivedExchanges).toHaveLength(1)
    expect(ctx.mock('out')).toBe(early)
  })

  it('is satisfied once the expected number of messages arrived', async () => {
    const ctx = await withMock()
    await ctx.producer().send('direct:in', 1)
    await ctx.producer().send('direct:in', 2)
    await expect(
      ctx.mock('out').expectedMessageCount(2).assertIsSatisfied({ timeoutMs: 100 }),
    ).resolves.toBeUndefined()
  })

  it('waits for messages that are still on their way', async () => {
    const ctx = await withMock()
    const mock = ctx.mock('out').expectedMessageCount(2)
    const satisfied = mock.assertIsSatisfied({ timeoutMs: 2000 })
    await ctx.producer().send('seda:later', 1)
    await ctx.producer().send('seda:later', 2)
    await expect(satisfied).resolves.toBeUndefined()
  })

  it('rejects with DROMEDARY_ERR_MOCK_NOT_SATISFIED saying how many were expected and what arrived', async () => {
    const ctx = await withMock()
    await ctx.producer().send('direct:in', { id: 1 })
    const err = await failure(ctx.mock('out').expectedMessageCount(3).assertIsSatisfied({ timeoutMs: 20 }))
    expect(isDromedaryError(err, E.MOCK_NOT_SATISFIED)).toBe(true)
    expect(err.message).toContain('mock:out')
    expect(err.message).toContain('expected 3 message(s) but received 1')
    expect(err.message).toContain('id: 1')
  })

  it('waits 5000 ms by default before rejecting', async () => {
    vi.useFakeTimers()
    const ctx = await withMock()
    let outcome = 'pending'
    const assertion = ctx
      .mock('out')
      .expectedMessageCount(1)
      .assertIsSatisfied()
      .then(
        () => (outcome = 'resolved'),
        () => (outcome = 'rejected'),
      )
    await vi.advanceTimersByTimeAsync(4999)
    expect(outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    await assertion
    expect(outcome).toBe('rejected')
  })

  it('rejects at once when more messages than expected arrived', async () => {
    const ctx = await withMock()
    for (const n of [1, 2]) await ctx.producer().send('direct:in', n)
    const err = await failure(
      ctx.mock('out').expectedMessageCount(1).assertIsSatisfied({ timeoutMs: 60_000 }),
    )
    expect(err.message).toContain('expected 1 message(s) but received 2')
  })

  it('checks expected bodies in order with deep equality', async () => {
    const ctx = await withMock()
    await ctx.producer().send('direct:in', { a: [1] })
    await ctx.producer().send('direct:in', 'two')
    await expect(
      ctx
        .mock('out')
        .expectedBodiesReceived({ a: [1] }, 'two')
        .assertIsSatisfied({ timeoutMs: 100 }),
    ).resolves.toBeUndefined()
  })

  it('rejects wrong bodies showing the expected and the received ones and where they differ', async () => {
    const ctx = await withMock()
    await ctx.producer().send('direct:in', 'one')
    await ctx.producer().send('direct:in', 'zwei')
    const err = await failure(
      ctx.mock('out').expectedBodiesReceived('one', 'two').assertIsSatisfied({ timeoutMs: 20 }),
    )
    expect(isDromedaryError(err, E.MOCK_NOT_SATISFIED)).toBe(true)
    expect(err.message).toContain("expected bodies [ 'one', 'two' ]")
    expect(err.message).toContain("received [ 'one', 'zwei' ]")
    expect(err.message).toContain('index 1')
  })

  it('is satisfied with no expectations set', async () => {
    const ctx = await withMock()
    await expect(ctx.mock('out').assertIsSatisfied({ timeoutMs: 10 })).resolves.toBeUndefined()
  })

  it('reset clears received exchanges and expectations', async () => {
    const ctx = await withMock()
    await ctx.producer().send('direct:in', 1)
    const mock = ctx.mock('out').expectedMessageCount(5)
    mock.reset()
    expect(mock.receivedExchanges).toHaveLength(0)
    await expect(mock.assertIsSatisfied({ timeoutMs: 10 })).resolves.toBeUndefined()
  })

  it('takes no options', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('direct:x').to('mock:out?retain=5'))).toThrow(
      expect.objectContaining({ code: E.UNKNOWN_OPTION }),
    )
  })
})
