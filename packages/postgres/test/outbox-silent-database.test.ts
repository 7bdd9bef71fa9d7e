// A database that goes silent with its sockets open must not hold a relay's shutdown past its deadline.
import { connect, createServer, type Server, type Socket } from 'node:net'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createContext } from '@dromedary/core'
import { postgresInbox, postgresOutbox } from '../src/index.js'
import { DATABASE_URL, useDatabase } from './support/database.js'

const db = useDatabase()

/** A TCP proxy to PostgreSQL on 127.0.0.1 that can stop forwarding (a silent peer) without closing anything. */
async function silentProxy(): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  const target = new URL(DATABASE_URL)
  const pairs: Array<[Socket, Socket]> = []
  let frozen = false
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname)
    pairs.push([client, upstream])
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk)
      })
    forward(client, upstream)
    forward(upstream, client)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    freeze: () => void (frozen = true),
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy()
        b.destroy()
      }
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

let proxy: Awaited<ReturnType<typeof silentProxy>> | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

describe('outbox relay against a silent database', () => {
  it('ends its stop within the deadline, and the claimed row goes back to unsent', async () => {
    const outbox = db.table('outbox')
    // Write one row through the real server.
    const writer = db.track(
      createContext({
        logger: false,
        metrics: false,
        components: { 'pg-outbox': postgresOutbox({ pool: db.pool }) },
      }),
    )
    const inbox = postgresInbox({ pool: db.pool, table: db.table('inbox'), key: () => 'k1' })
    await writer.addRoutes((r) => r.from('direct:w').transacted(inbox, (b) => b.to(`pg-outbox:${outbox}`)))
    await writer.start()
    await writer.producer().send('direct:w', 'x')
    await writer.stop()

    // The relay talks to PostgreSQL through the proxy; its exchange waits until the database went silent.
    proxy = await silentProxy()
    const target = new URL(DATABASE_URL)
    target.host = `127.0.0.1:${proxy.port}`
    const pool = new pg.Pool({ connectionString: target.toString(), max: 3 })
    pool.on('error', () => undefined)
    const relay = db.track(
      createContext({
        logger: false,
        metrics: false,
        shutdown: { nowBudgetMs: 300 },
        components: { 'pg-outbox': postgresOutbox({ pool }) },
      }),
    )
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started = 0
    await relay.addRoutes((r) =>
      r.from(`pg-outbox:${outbox}?pollIntervalMs=20&listen=false`).process(async () => {
        started++
        await gate
      }),
    )
    await relay.start()
    await expect.poll(() => started).toBe(1)
    proxy.freeze()
    release() // the relay now sends UPDATE … sent_at and COMMIT into the silence

    const t0 = Date.now()
    const report = await relay.stop({ timeoutMs: 300 })
    expect(Date.now() - t0).toBeLessThan(300 + 300 + 1000)
    expect(report.graceful).toBe(false)
    // The stop destroyed the batch's connection (the proxy is still open and silent): the server rolled the
    // claim back, so the row is unsent and another relay can lock it.
    const claimable = async () =>
      (await db.pool.query(`SELECT id FROM "${outbox}" WHERE sent_at IS NULL FOR UPDATE SKIP LOCKED`)).rows
        .length
    await expect.poll(claimable, { timeout: 10_000 }).toBe(1)
    await pool.end().catch(() => undefined)
  })
})
