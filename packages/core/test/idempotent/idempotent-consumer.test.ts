// The idempotent consumer (Camel semantics) on the in-memory repository and on an asynchronous one.
import { afterEach, describe, expect, it } from 'vitest'
import {
  CoreErrorCodes,
  DUPLICATE_HEADER,
  isDromedaryError,
  memoryIdempotentRepository,
  type IdempotentRepository,
} from '@dromedary/core'
import {
  captureLogger,
  deferred,
  disposeContexts,
  flush,
  hostComponent,
  newContext,
  startedContext,
} from '../support.js'

afterEach(disposeContexts)

const byId = (ex: { message: { body: unknown } }) => (ex.message.body as { id: string }).id

/** An asynchronous repository over a Set that records its calls and can hold them until released. */
function asyncRepository(): IdempotentRepository & { keys: Set<string>; calls: string[] } {
  const keys = new Set<string>()
  const calls: string[] = []
  const repo = {
    keys,
    calls,
    async add(key: string) {
      calls.push(`add:${key}`)
      if (keys.has(key)) return false
      keys.add(key)
      return true
    },
    async contains(key: string) {
      calls.push(`contains:${key}`)
      return keys.has(key)
    },
    async remove(key: string) {
      calls.push(`remove:${key}`)
      keys.delete(key)
    },
    async confirm(key: string) {
      calls.push(`confirm:${key}`)
    },
  }
  return repo
}

describe('idempotentConsumer', () => {
  it('skips the rest of the route for a key already seen, and the duplicate completes', async () => {
    const repository = memoryIdempotentRepository()
    const ctx = await startedContext((r) =>
      r.from('direct:in').idempotentConsumer(byId, { repository }).to('mock:out'),
    )
    const first = await ctx.producer().send('direct:in', { id: 'a' })
    const second = await ctx.producer().send('direct:in', { id: 'a' })
    expect(first.exception).toBeUndefined()
    expect(second.exception).toBeUndefined()
    expect(ctx.mock('out').receivedExchanges).toHaveLength(1)
  })

  it('runs steps before it for every message, duplicates included', async () => {
    const repository = memoryIdempotentRepository()
    let before = 0
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .process(() => void before++)
        .idempotentConsumer(byId, { repository })
        .to('mock:out'),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(before).toBe(2)
  })

  it('lets a duplicate through with header dromedary.duplicate when skipDuplicate is false', async () => {
    const repository = memoryIdempotentRepository()
    const ctx = await startedContext((r) =>
      r.from('direct:in').idempotentConsumer(byId, { repository, skipDuplicate: false }).to('mock:out'),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    await ctx.producer().send('direct:in', { id: 'a' })
    const headers = ctx.mock('out').receivedExchanges.map((e) => e.message.headers[DUPLICATE_HEADER])
    expect(headers).toEqual([undefined, true])
  })

  it('holds the key while the rest runs (eager), so a concurrent duplicate is skipped', async () => {
    const repository = memoryIdempotentRepository()
    const gate = deferred()
    let runs = 0
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .idempotentConsumer(byId, { repository })
        .process(async () => {
          runs++
          await gate.promise
        }),
    )
    const first = ctx.producer().send('direct:in', { id: 'a' })
    await flush()
    await ctx.producer().send('direct:in', { id: 'a' })
    gate.resolve()
    await first
    expect(runs).toBe(1)
  })

  it('removes the key of a failed exchange, so a redelivery is processed', async () => {
    const repository = memoryIdempotentRepository()
    let attempt = 0
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .idempotentConsumer(byId, { repository })
        .process(() => {
          if (attempt++ === 0) throw new Error('first attempt fails')
        })
        .to('mock:out'),
    )
    const failed = await ctx.producer().send('direct:in', { id: 'a' })
    expect(failed.exception).toBeInstanceOf(Error)
    expect(repository.contains('a')).toBe(false)
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(ctx.mock('out').receivedExchanges).toHaveLength(1)
    expect(repository.contains('a')).toBe(true)
  })

  it('keeps the key of a failed exchange with removeOnFailure false, so a redelivery is skipped', async () => {
    const repository = memoryIdempotentRepository()
    let runs = 0
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .idempotentConsumer(byId, { repository, removeOnFailure: false })
        .process(() => {
          runs++
          throw new Error('fails')
        }),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    const again = await ctx.producer().send('direct:in', { id: 'a' })
    expect(runs).toBe(1)
    expect(again.exception).toBeUndefined()
  })

  it('adds the key only once the exchange completed when lazy, and never for a failure', async () => {
    const repository = memoryIdempotentRepository()
    const seen: boolean[] = []
    let fail = true
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .idempotentConsumer(byId, { repository, eager: false })
        .process(() => {
          seen.push(repository.contains('a'))
          if (fail) throw new Error('fails')
        }),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(repository.contains('a')).toBe(false)
    fail = false
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(seen).toEqual([false, false])
    expect(repository.contains('a')).toBe(true)
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(seen).toHaveLength(2)
  })

  it('treats an exchange a filter stopped inside the rest as completed', async () => {
    const repository = memoryIdempotentRepository()
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .idempotentConsumer(byId, { repository })
        .filter(() => false),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(repository.contains('a')).toBe(true)
  })

  it('awaits an asynchronous repository before the exchange ends: confirm on completion', async () => {
    const repository = asyncRepository()
    const ctx = await startedContext((r) =>
      r.from('direct:in').idempotentConsumer(byId, { repository }).to('mock:out'),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(repository.calls).toEqual(['add:a', 'confirm:a'])
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(repository.calls).toEqual(['add:a', 'confirm:a', 'add:a'])
    expect(ctx.mock('out').receivedExchanges).toHaveLength(1)
  })

  it('has removed the key of a failed exchange by the time the exchange ends', async () => {
    const gate = deferred()
    const calls: string[] = []
    const repository: IdempotentRepository = {
      add: async () => true,
      contains: () => false,
      remove: async (key) => {
        calls.push(`remove:${key}`)
        await gate.promise
        calls.push('removed')
      },
    }
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .idempotentConsumer(byId, { repository })
        .process(() => {
          throw new Error('fails')
        }),
    )
    const ex = ctx.producer().send('direct:in', { id: 'a' })
    let ended = false
    void ex.then(() => (ended = true))
    await flush()
    expect(calls).toEqual(['remove:a'])
    expect(ended).toBe(false)
    gate.resolve()
    await ex
    expect(calls).toEqual(['remove:a', 'removed'])
  })

  it('checks contains and adds on completion with an asynchronous repository when lazy', async () => {
    const repository = asyncRepository()
    const ctx = await startedContext((r) =>
      r.from('direct:in').idempotentConsumer(byId, { repository, eager: false }).to('mock:out'),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(repository.calls).toEqual(['contains:a', 'add:a', 'confirm:a', 'contains:a'])
  })

  it('runs synchronously on a synchronous repository (no promise for the consumer)', async () => {
    const rec = hostComponent()
    const ctx = newContext({ components: { host: rec.component } })
    const repository = memoryIdempotentRepository()
    await ctx.addRoutes((r) =>
      r
        .from('host:in')
        .routeId('in')
        .idempotentConsumer(byId, { repository })
        .process(() => undefined),
    )
    await ctx.start()
    const host = rec.hosts.get('in')!
    expect(host.process(host.createExchange({ id: 'a' }))).toBeUndefined()
    expect(host.process(host.createExchange({ id: 'a' }))).toBeUndefined()
    const failing = host.createExchange({ id: 7 })
    expect(host.process(failing)).toBeUndefined()
    expect(isDromedaryError(failing.exception, CoreErrorCodes.IDEMPOTENT_KEY)).toBe(true)
  })

  it.each([undefined, null, '', 42, { id: 'a' }])(
    'fails the exchange with DROMEDARY_ERR_IDEMPOTENT_KEY when the key is %j, touching no repository',
    async (key) => {
      const repository = asyncRepository()
      const ctx = await startedContext((r) =>
        r
          .from('direct:in')
          .idempotentConsumer(() => key as string, { repository })
          .to('mock:out'),
      )
      const ex = await ctx.producer().send('direct:in', null)
      expect(isDromedaryError(ex.exception, CoreErrorCodes.IDEMPOTENT_KEY)).toBe(true)
      expect(repository.calls).toEqual([])
      expect(ctx.mock('out').receivedExchanges).toHaveLength(0)
    },
  )

  it('fails the exchange when the repository fails to add, and onException may redeliver it', async () => {
    let adds = 0
    const repository: IdempotentRepository = {
      add: async () => {
        if (adds++ === 0) throw new Error('repository down')
        return true
      },
      contains: () => false,
      remove: () => undefined,
    }
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .onException({ maximumRedeliveries: 1, redeliveryDelayMs: 0 })
        .idempotentConsumer(byId, { repository })
        .to('mock:out'),
    )
    const ex = await ctx.producer().send('direct:in', { id: 'a' })
    expect(ex.exception).toBeUndefined()
    expect(adds).toBe(2)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(1)
  })

  it('logs a failed remove and leaves the exchange failed with its own error', async () => {
    const { logger, lines } = captureLogger()
    const repository: IdempotentRepository = {
      add: () => true,
      contains: () => false,
      remove: () => Promise.reject(new Error('repository down')),
    }
    const ctx = await startedContext(
      (r) =>
        r
          .from('direct:in')
          .idempotentConsumer(byId, { repository })
          .process(() => {
            throw new RangeError('effect failed')
          }),
      newContext({ logger }),
    )
    const ex = await ctx.producer().send('direct:in', { id: 'a' })
    expect(ex.exception).toBeInstanceOf(RangeError)
    expect(lines.some((l) => l.level === 'error' && /remove of key "a" failed/.test(l.msg ?? ''))).toBe(true)
  })

  it('wraps only the rest of a branch it is in', async () => {
    const repository = memoryIdempotentRepository()
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .choice((c) =>
          c.when(
            () => true,
            (b) => b.idempotentConsumer(byId, { repository }).to('mock:branch'),
          ),
        )
        .to('mock:after'),
    )
    await ctx.producer().send('direct:in', { id: 'a' })
    await ctx.producer().send('direct:in', { id: 'a' })
    expect(ctx.mock('branch').receivedExchanges).toHaveLength(1)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(2)
  })

  it('numbers the steps after it like any other steps', async () => {
    const repository = memoryIdempotentRepository()
    const gate = deferred()
    const ctx = await startedContext((r) =>
      r
        .from('direct:in')
        .routeId('in')
        .idempotentConsumer(byId, { repository })
        .process(() => gate.promise),
    )
    const ex = ctx.producer().send('direct:in', { id: 'a' })
    await flush()
    expect(ctx.inflight.browse().map((e) => e.nodeId)).toEqual(['process2'])
    gate.resolve()
    await ex
  })

  it.each([
    ['no options', undefined],
    ['no repository', {}],
    ['a repository without remove', { repository: { add: () => true, contains: () => false } }],
    ['eager not a boolean', { repository: memoryIdempotentRepository(), eager: 'yes' }],
  ])('refuses %s with DROMEDARY_ERR_INVALID_ROUTE', (_, options) => {
    const ctx = newContext()
    expect(() =>
      ctx.addRoutes((r) => r.from('direct:in').idempotentConsumer(byId, options as never)),
    ).toThrow(expect.objectContaining({ code: CoreErrorCodes.INVALID_ROUTE }))
  })
})
