// `.transacted(policy, block)`: the generic hook a transactional inbox plugs into.
import { afterEach, describe, expect, it } from 'vitest'
import { CoreErrorCodes, type Exchange, type TransactedBlock, type TransactionPolicy } from '@dromedary/core'
import { disposeContexts, flush, hostComponent, newContext, startedContext } from '../support.js'

afterEach(disposeContexts)

/** A policy that records begin/commit/rollback around the block, synchronously or asynchronously. */
function recordingPolicy(options: { async?: boolean; skip?: (ex: Exchange) => boolean } = {}) {
  const log: string[] = []
  const policy: TransactionPolicy = {
    run(ex: Exchange, block: TransactedBlock) {
      log.push('begin')
      if (options.skip?.(ex) === true) {
        log.push('skip')
        return
      }
      const end = (): void => void log.push(ex.exception === undefined ? 'commit' : 'rollback')
      if (options.async !== true) {
        const r = block.run(ex)
        if (r !== undefined) return r.then(end)
        end()
        return
      }
      return flush()
        .then(() => block.run(ex))
        .then(end)
    },
  }
  return { policy, log }
}

describe('transacted', () => {
  it('runs the block between begin and commit, then the rest of the route', async () => {
    const { policy, log } = recordingPolicy({ async: true })
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .transacted(policy, (b) => b.process(() => void log.push('step')))
        .process(() => void log.push('after')),
    )
    const ex = await ctx.producer().send('direct:in', null)
    expect(ex.exception).toBeUndefined()
    expect(log).toEqual(['begin', 'step', 'commit', 'after'])
  })

  it('ends the block at its first failure, rolls back, and fails the exchange with that error', async () => {
    const { policy, log } = recordingPolicy()
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .transacted(policy, (b) =>
          b
            .process(() => {
              throw new RangeError('effect failed')
            })
            .process(() => void log.push('not reached')),
        )
        .process(() => void log.push('not reached either')),
    )
    const ex = await ctx.producer().send('direct:in', null)
    expect(ex.exception).toBeInstanceOf(RangeError)
    expect(log).toEqual(['begin', 'rollback'])
  })

  it('continues after the block when the policy skips it', async () => {
    const { policy, log } = recordingPolicy({ skip: () => true })
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .transacted(policy, (b) => b.process(() => void log.push('step')))
        .to('mock:after'),
    )
    await ctx.producer().send('direct:in', null)
    expect(log).toEqual(['begin', 'skip'])
    expect(ctx.mock('after').receivedExchanges).toHaveLength(1)
  })

  it('redelivers the whole block in a new transaction under onException, never one step inside it', async () => {
    const { policy, log } = recordingPolicy({ async: true })
    let attempts = 0
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .onException({ maximumRedeliveries: 2, redeliveryDelayMs: 0 })
        .transacted(policy, (b) =>
          b
            .process(() => void log.push('first'))
            .process(() => {
              if (++attempts < 3) throw new Error('deadlock')
            }),
        ),
    )
    const ex = await ctx.producer().send('direct:in', null)
    expect(ex.exception).toBeUndefined()
    expect(log).toEqual([
      ...['begin', 'first', 'rollback'],
      ...['begin', 'first', 'rollback'],
      ...['begin', 'first', 'commit'],
    ])
  })

  it('dead-letters the exchange once, after the rollback', async () => {
    const { policy, log } = recordingPolicy()
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .onException({ to: 'mock:dead' })
        .transacted(policy, (b) =>
          b.process(() => {
            throw new Error('fails')
          }),
        ),
    )
    const ex = await ctx.producer().send('direct:in', null)
    expect(ex.exception).toBeUndefined()
    expect(log).toEqual(['begin', 'rollback'])
    expect(ctx.mock('dead').receivedExchanges).toHaveLength(1)
  })

  it('fails the exchange when the policy itself fails (a commit refused)', async () => {
    const policy: TransactionPolicy = {
      run: async (ex, block) => {
        await block.run(ex)
        throw new Error('commit failed')
      },
    }
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .transacted(policy, (b) => b.to('mock:inside'))
        .to('mock:after'),
    )
    const ex = await ctx.producer().send('direct:in', null)
    expect((ex.exception as Error).message).toBe('commit failed')
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('runs synchronously around a synchronous block (no promise for the consumer)', async () => {
    const rec = hostComponent()
    const { policy, log } = recordingPolicy()
    const ctx = newContext({ components: { host: rec.component } })
    await ctx.addRoutes((r) =>
      r
        .from('host:in')
        .routeId('in')
        .transacted(policy, (b) => b.setBody(1)),
    )
    await ctx.start()
    const host = rec.hosts.get('in')!
    expect(host.process(host.createExchange(0))).toBeUndefined()
    expect(log).toEqual(['begin', 'commit'])
  })

  it('refuses a policy without run with DROMEDARY_ERR_INVALID_ROUTE', () => {
    const ctx = newContext()
    expect(() =>
      ctx.addRoutes((r) => r.from('direct:in').transacted({} as TransactionPolicy, (b) => b)),
    ).toThrow(expect.objectContaining({ code: CoreErrorCodes.INVALID_ROUTE }))
  })
})
