import { describe, expect, it } from 'vitest'
import { createContext, type Exchange } from '@dromedary/core'
import {
  OUTBOX_MESSAGE_ID_HEADER,
  OUTBOX_ROW_ID_HEADER,
  postgresInbox,
  postgresOutbox,
  PostgresErrorCodes,
} from '../src/index.js'
import { countRows, useDatabase } from './support/database.js'

const db = useDatabase()

/** An app whose `direct:in` writes its body to the outbox inside an inbox block, plus a relay to mock:out. */
async function outboxApp(
  options: { relay?: string; outbox?: string; fail?: (ex: Exchange) => boolean; relayRoute?: boolean } = {},
) {
  const outbox = options.outbox ?? db.table('outbox')
  const inbox = postgresInbox({
    pool: db.pool,
    table: db.table('inbox'),
    key: (ex) => String(ex.message.headers.key),
  })
  const ctx = db.track(
    createContext({
      logger: false,
      metrics: false,
      components: { 'pg-outbox': postgresOutbox({ pool: db.pool }) },
    }),
  )
  await ctx.addRoutes((r) => {
    r.from('direct:in')
      .routeId('in')
      .transacted(inbox, (b) =>
        b.to(`pg-outbox:${outbox}`).process((ex) => {
          if (options.fail?.(ex) === true) throw new Error('after the outbox write')
        }),
      )
    if (options.relayRoute !== false)
      r.from(`pg-outbox:${outbox}?${options.relay ?? 'pollIntervalMs=20'}`)
        .routeId('relay')
        .to('mock:out')
  })
  await ctx.start()
  const send = (body: unknown, key: string, headers: Record<string, unknown> = {}) =>
    ctx.producer().send('direct:in', body, { key, ...headers })
  return { ctx, outbox, send, out: ctx.mock('out') }
}

describe('transactional outbox', () => {
  it('publishes a committed row once through the relay route, with its message id, and marks it sent', async () => {
    const { send, out, outbox } = await outboxApp()
    const ex = await send({ amount: 5 }, 'k1')
    const id = ex.message.headers[OUTBOX_MESSAGE_ID_HEADER]
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    out.expectedMessageCount(1)
    await out.assertIsSatisfied({ timeoutMs: 5000 })
    const relayed = out.receivedExchanges[0]!
    expect(relayed.message.body).toEqual({ amount: 5 })
    expect(relayed.message.headers['amqp.messageId']).toBe(id)
    expect(relayed.message.headers[OUTBOX_ROW_ID_HEADER]).toBe('1')
    await expect.poll(() => countRows(db.pool, outbox, 'sent_at IS NULL')).toBe(0)
  })

  it('writes nothing to the outbox when the block rolls back', async () => {
    const { send, outbox } = await outboxApp({ fail: () => true, relayRoute: false })
    const ex = await send('x', 'k1')
    expect(ex.exception).toBeInstanceOf(Error)
    expect(await countRows(db.pool, outbox)).toBe(0)
  })

  it('writes once per key: a duplicate delivery adds no outbox row', async () => {
    const { send, outbox } = await outboxApp({ relayRoute: false })
    await send('x', 'k1')
    await send('x', 'k1')
    expect(await countRows(db.pool, outbox)).toBe(1)
  })

  it('keeps the kind of body and the application headers, and drops reserved and credential headers', async () => {
    const { send, out } = await outboxApp()
    await send(Buffer.from([1, 2, 3]), 'k1', {
      'x-app': 'yes',
      authorization: 'secret',
      'amqp.exchange': 'e',
    })
    await send('text', 'k2')
    await send({ n: 1 }, 'k3')
    out.expectedMessageCount(3)
    await out.assertIsSatisfied({ timeoutMs: 5000 })
    const [bytes, text, json] = out.receivedExchanges.map((e) => e.message)
    expect(Buffer.isBuffer(bytes!.body) && [...bytes!.body]).toEqual([1, 2, 3])
    expect(bytes!.headers['x-app']).toBe('yes')
    expect(bytes!.headers.authorization).toBeUndefined()
    expect(bytes!.headers['amqp.exchange']).toBeUndefined()
    expect(text!.body).toBe('text')
    expect(json!.body).toEqual({ n: 1 })
  })

  it('wakes the relay on NOTIFY at commit instead of waiting for the next poll', async () => {
    const { send, out } = await outboxApp({ relay: 'pollIntervalMs=600000' })
    // Let the relay find the table empty and go idle with its ten-minute poll.
    await new Promise((resolve) => setImmediate(resolve))
    await send('x', 'k1')
    out.expectedMessageCount(1)
    await out.assertIsSatisfied({ timeoutMs: 5000 })
  })

  it('leaves a row the destination refused unsent, and publishes it on a later batch', async () => {
    const outbox = db.table('outbox')
    let refuse = true
    const { send, ctx } = await outboxApp({ outbox, relayRoute: false })
    const delivered: unknown[] = []
    await ctx.addRoutes((r) =>
      r
        .from(`pg-outbox:${outbox}?pollIntervalMs=20`)
        .routeId('relay')
        .process((ex) => {
          if (refuse) throw new Error('broker down')
          delivered.push(ex.message.body)
        }),
    )
    await send('x', 'k1')
    await expect.poll(() => countRows(db.pool, outbox, 'sent_at IS NULL')).toBe(1)
    refuse = false
    await expect.poll(() => delivered).toEqual(['x'])
    await expect.poll(() => countRows(db.pool, outbox, 'sent_at IS NULL')).toBe(0)
  })

  it('does not publish a sent row again when a new relay starts', async () => {
    const outbox = db.table('outbox')
    const first = await outboxApp({ outbox })
    await first.send('x', 'k1')
    first.out.expectedMessageCount(1)
    await first.out.assertIsSatisfied({ timeoutMs: 5000 })
    await first.ctx.stop()
    const second = await outboxApp({ outbox })
    await second.send('y', 'k2')
    second.out.expectedMessageCount(1)
    await second.out.assertIsSatisfied({ timeoutMs: 5000 })
    expect(second.out.receivedExchanges.map((e) => e.message.body)).toEqual(['y'])
  })

  it('drains the batch under way on a graceful stop: its rows are published and marked sent', async () => {
    const outbox = db.table('outbox')
    const { send, ctx } = await outboxApp({ outbox, relayRoute: false })
    for (let i = 0; i < 5; i++) await send(i, `k${i}`)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started = 0
    await ctx.addRoutes((r) =>
      r
        .from(`pg-outbox:${outbox}?pollIntervalMs=20`)
        .routeId('relay')
        .process(async () => {
          started++
          await gate
        }),
    )
    await expect.poll(() => started).toBe(5)
    const stopping = ctx.stop()
    expect(ctx.routes().find((r) => r.id === 'relay')?.inflight).toBe(5)
    release()
    const report = await stopping
    expect(report.graceful).toBe(true)
    expect(await countRows(db.pool, outbox, 'sent_at IS NULL')).toBe(0)
  })

  it('puts the rows of a batch back to unsent when the stop is forced', async () => {
    const outbox = db.table('outbox')
    const { send, ctx } = await outboxApp({ outbox, relayRoute: false })
    await send('x', 'k1')
    let started = 0
    await ctx.addRoutes((r) =>
      r
        .from(`pg-outbox:${outbox}?pollIntervalMs=20`)
        .routeId('relay')
        .process(async () => {
          started++
          await new Promise(() => undefined)
        }),
    )
    await expect.poll(() => started).toBe(1)
    await ctx.forceStop()
    expect(await countRows(db.pool, outbox, 'sent_at IS NULL')).toBe(1)
    // Unlocked too: another relay can claim it at once.
    const { rows } = await db.pool.query(`SELECT id FROM "${outbox}" FOR UPDATE SKIP LOCKED`)
    expect(rows).toHaveLength(1)
  })

  it('refuses to write to the outbox outside a transacted block', async () => {
    const outbox = db.table('outbox')
    const ctx = db.track(
      createContext({
        logger: false,
        metrics: false,
        components: { 'pg-outbox': postgresOutbox({ pool: db.pool }) },
      }),
    )
    await ctx.addRoutes((r) => r.from('direct:x').to(`pg-outbox:${outbox}`))
    await ctx.start()
    const ex = await ctx.producer().send('direct:x', 1)
    expect(ex.exception).toMatchObject({ code: PostgresErrorCodes.NO_TRANSACTION })
  })

  it('fails the exchange with DROMEDARY_ERR_PG_OUTBOX_ENCODE for a body with no JSON form', async () => {
    const { send } = await outboxApp({ relayRoute: false })
    const ex = await send({ n: 1n }, 'k1')
    expect(ex.exception).toMatchObject({ code: PostgresErrorCodes.OUTBOX_ENCODE })
  })

  it.each([
    ['a bad table name', 'pg-outbox:Bad-Name'],
    ['batchSize 0', 'pg-outbox:t?batchSize=0'],
    ['batchSize above 10000', 'pg-outbox:t?batchSize=10001'],
    ['pollIntervalMs NaN', 'pg-outbox:t?pollIntervalMs=soon'],
    ['an unknown option', 'pg-outbox:t?bogus=1'],
  ])('refuses %s at addRoutes', (_, uri) => {
    const ctx = db.track(
      createContext({
        logger: false,
        metrics: false,
        components: { 'pg-outbox': postgresOutbox({ pool: db.pool }) },
      }),
    )
    expect(() => ctx.addRoutes((r) => r.from(uri).to('mock:x'))).toThrow(/DROMEDARY_ERR|Route/)
  })

  it('refuses relay options on a to() URI', () => {
    const ctx = db.track(
      createContext({
        logger: false,
        metrics: false,
        components: { 'pg-outbox': postgresOutbox({ pool: db.pool }) },
      }),
    )
    expect(() => ctx.addRoutes((r) => r.from('direct:x').to('pg-outbox:t?batchSize=5'))).toThrow(
      expect.objectContaining({ code: 'DROMEDARY_ERR_UNKNOWN_OPTION' }),
    )
  })
})
