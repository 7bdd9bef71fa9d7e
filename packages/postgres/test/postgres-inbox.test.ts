import { describe, expect, it } from 'vitest'
import { createContext, DUPLICATE_HEADER } from '@dromedary/core'
import { postgresInbox, PostgresErrorCodes, transactionClient, type PostgresInbox } from '../src/index.js'
import { countRows, useDatabase } from './support/database.js'

const db = useDatabase()

interface Payment {
  id: string
  cents: number
  fail?: boolean
}

/** A started context whose route `direct:pay` records each payment in `effects` through the inbox. */
async function paymentsApp() {
  const inboxTable = db.table('inbox')
  const effects = db.table('effects')
  await db.pool.query(`CREATE TABLE "${effects}" (id text, cents int)`)
  const inbox = postgresInbox<Payment>({ pool: db.pool, table: inboxTable, key: (ex) => ex.message.body.id })
  const ctx = db.track(createContext({ logger: false, metrics: false }))
  await ctx.addRoutes((r) =>
    r
      .from<Payment>('direct:pay')
      .transacted(inbox, (b) =>
        b.process(async (ex) => {
          const { id, cents, fail } = ex.message.body
          await inbox.client(ex).query(`INSERT INTO "${effects}" VALUES ($1, $2)`, [id, cents])
          if (fail === true) throw new Error('the payment provider refused')
        }),
      )
      .to('mock:done'),
  )
  await ctx.start()
  const pay = (p: Payment) => ctx.producer().send('direct:pay', p)
  return { ctx, inbox, inboxTable, effects, pay }
}

describe('postgresInbox', () => {
  it('commits the effect and the key together; a duplicate skips the block', async () => {
    const { ctx, effects, inboxTable, pay } = await paymentsApp()
    const first = await pay({ id: 'p1', cents: 100 })
    const second = await pay({ id: 'p1', cents: 100 })
    expect(first.exception).toBeUndefined()
    expect(second.exception).toBeUndefined()
    expect(second.message.headers[DUPLICATE_HEADER]).toBe(true)
    expect(await countRows(db.pool, effects)).toBe(1)
    expect(await countRows(db.pool, inboxTable)).toBe(1)
    // The route goes on after a skipped block (the consumer acknowledges the duplicate).
    expect(ctx.mock('done').receivedExchanges).toHaveLength(2)
  })

  it('rolls back the effect and the key on failure, so a redelivery is processed', async () => {
    const { effects, inboxTable, pay } = await paymentsApp()
    const failed = await pay({ id: 'p1', cents: 100, fail: true })
    expect((failed.exception as Error).message).toBe('the payment provider refused')
    expect(await countRows(db.pool, effects)).toBe(0)
    expect(await countRows(db.pool, inboxTable)).toBe(0)
    await pay({ id: 'p1', cents: 100 })
    expect(await countRows(db.pool, effects)).toBe(1)
  })

  it('applies the effect of concurrent deliveries of one key once', async () => {
    const { effects, pay } = await paymentsApp()
    const results = await Promise.all(Array.from({ length: 6 }, () => pay({ id: 'p1', cents: 5 })))
    expect(results.every((r) => r.exception === undefined)).toBe(true)
    expect(await countRows(db.pool, effects)).toBe(1)
  })

  it('has committed by the time the steps after the block run (before any consumer acknowledges)', async () => {
    let visible = -1
    // Read from another connection in a step after the block: only a committed row is visible there.
    const inboxTable = db.table('inbox')
    const effects = db.table('effects')
    await db.pool.query(`CREATE TABLE "${effects}" (id text)`)
    const inbox = postgresInbox<Payment>({
      pool: db.pool,
      table: inboxTable,
      key: (ex) => ex.message.body.id,
    })
    const ctx = db.track(createContext({ logger: false, metrics: false }))
    await ctx.addRoutes((r) =>
      r
        .from<Payment>('direct:pay')
        .transacted(inbox, (b) =>
          b.process(async (ex) => {
            await transactionClient(ex).query(`INSERT INTO "${effects}" VALUES ($1)`, [ex.message.body.id])
          }),
        )
        .process(async () => {
          visible = await countRows(db.pool, effects)
        }),
    )
    await ctx.start()
    await ctx.producer().send('direct:pay', { id: 'p1', cents: 1 })
    expect(visible).toBe(1)
  })

  it('refuses the transaction client outside the block with DROMEDARY_ERR_PG_NO_TRANSACTION', async () => {
    const { inbox } = await paymentsApp()
    const ctx = db.track(createContext({ logger: false, metrics: false }))
    await ctx.addRoutes((r) => r.from('direct:x').process((ex) => void inbox.client(ex)))
    await ctx.start()
    const ex = await ctx.producer().send('direct:x', null)
    expect(ex.exception).toMatchObject({ code: PostgresErrorCodes.NO_TRANSACTION })
  })

  it.each([undefined, '', 7])(
    'fails the exchange with DROMEDARY_ERR_PG_INBOX_KEY when the key is %j',
    async (bad) => {
      const inbox: PostgresInbox = postgresInbox({
        pool: db.pool,
        table: db.table('inbox'),
        key: () => bad as string,
      })
      const ctx = db.track(createContext({ logger: false, metrics: false }))
      let ran = false
      await ctx.addRoutes((r) =>
        r.from('direct:x').transacted(inbox, (b) => b.process(() => void (ran = true))),
      )
      await ctx.start()
      const ex = await ctx.producer().send('direct:x', null)
      expect(ex.exception).toMatchObject({ code: PostgresErrorCodes.INBOX_KEY })
      expect(ran).toBe(false)
    },
  )

  it('fails the exchange with DROMEDARY_ERR_PG_QUERY when the inbox table is missing and not created', async () => {
    const inbox = postgresInbox({
      pool: db.pool,
      table: db.table('inbox'),
      key: () => 'k',
      createTables: false,
    })
    const ctx = db.track(createContext({ logger: false, metrics: false }))
    await ctx.addRoutes((r) => r.from('direct:x').transacted(inbox, (b) => b.to('mock:inside')))
    await ctx.start()
    const ex = await ctx.producer().send('direct:x', null)
    expect(ex.exception).toMatchObject({ code: PostgresErrorCodes.QUERY })
  })

  const k = (): string => 'k'
  it.each<[string, Record<string, unknown>]>([
    ['no pool', { pool: {}, key: k }],
    ['no key', {}],
    ['a bad table', { table: 'x y', key: k }],
  ])('refuses %s with DROMEDARY_ERR_PG_INVALID_CONFIG', (_, options) => {
    expect(() => postgresInbox({ pool: db.pool, ...options } as never)).toThrow(
      expect.objectContaining({ code: PostgresErrorCodes.INVALID_CONFIG }),
    )
  })
})
