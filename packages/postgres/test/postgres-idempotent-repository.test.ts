import { describe, expect, it } from 'vitest'
import { createContext } from '@dromedary/core'
import { postgresIdempotentRepository, PostgresErrorCodes } from '../src/index.js'
import { countRows, useDatabase } from './support/database.js'

const db = useDatabase()

describe('postgresIdempotentRepository', () => {
  it('adds a key once: the second add reports a duplicate', async () => {
    const repo = postgresIdempotentRepository({ pool: db.pool, table: db.table('idem') })
    expect(await repo.add('a')).toBe(true)
    expect(await repo.add('a')).toBe(false)
    expect(await repo.contains('a')).toBe(true)
    expect(await repo.contains('b')).toBe(false)
  })

  it('lets exactly one of many concurrent adds of a key win, across repositories on one table', async () => {
    const table = db.table('idem')
    const repos = [1, 2, 3].map(() => postgresIdempotentRepository({ pool: db.pool, table }))
    const wins = await Promise.all(repos.flatMap((r) => [r.add('k'), r.add('k')]).map(async (p) => p))
    expect(wins.filter(Boolean)).toHaveLength(1)
  })

  it('removes and clears keys', async () => {
    const table = db.table('idem')
    const repo = postgresIdempotentRepository({ pool: db.pool, table })
    await repo.add('a')
    await repo.add('b')
    await repo.remove('a')
    expect(await repo.contains('a')).toBe(false)
    await repo.clear!()
    expect(await countRows(db.pool, table)).toBe(0)
  })

  it('fails with DROMEDARY_ERR_PG_QUERY when told not to create a table that does not exist', async () => {
    const repo = postgresIdempotentRepository({ pool: db.pool, table: db.table('idem'), createTables: false })
    await expect(repo.add('a')).rejects.toMatchObject({ code: PostgresErrorCodes.QUERY })
  })

  it('skips a redelivered key in a route across context restarts (the key outlives the process)', async () => {
    const table = db.table('idem')
    let effects = 0
    for (let run = 0; run < 2; run++) {
      const ctx = db.track(createContext({ logger: false, metrics: false }))
      const repository = postgresIdempotentRepository({ pool: db.pool, table })
      await ctx.addRoutes((r) =>
        r
          .from<{ id: string }>('direct:in')
          .idempotentConsumer((ex) => ex.message.body.id, { repository })
          .process(() => void effects++),
      )
      await ctx.start()
      await ctx.producer().send('direct:in', { id: 'p-1' })
      await ctx.stop()
    }
    expect(effects).toBe(1)
  })

  it.each(['', 'Upper', 'a-b', 'a;drop table x', 'a.b.c', '1abc', 'x'.repeat(64), 'a"b', 42])(
    'refuses the table name %j with DROMEDARY_ERR_PG_INVALID_CONFIG',
    (table) => {
      expect(() => postgresIdempotentRepository({ pool: db.pool, table: table as string })).toThrow(
        expect.objectContaining({ code: PostgresErrorCodes.INVALID_CONFIG }),
      )
    },
  )
})
