import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { createContext } from '@dromedary/core'
import { rawConnection, startHttp, type Running } from './support.js'

let running: Running | undefined
afterEach(async () => {
  await running?.ctx.forceStop()
  running = undefined
})

/** Larger than what the kernel buffers of both ends hold, so the answer cannot finish while nobody reads. */
const BIG = 'x'.repeat(16 * 1024 * 1024)

async function startServer(contextOptions: Parameters<typeof createContext>[0] = {}) {
  running = await startHttp(
    (r) => {
      r.from('http:/big?method=GET')
        .routeId('big')
        .setBody(() => BIG)
      r.from('http:/up?method=POST')
        .routeId('up')
        .setBody(() => 'never')
    },
    {},
    contextOptions,
  )
  return running
}

/**
 * A client that asks for /big, reads the first bytes of the answer, then stops reading. `closedByServer()` reads
 * again and resolves once the server's end of the connection is gone (a client that never reads never learns).
 */
async function neverReads(port: number) {
  const conn = await rawConnection(port)
  const started = new Promise<void>((resolve) =>
    conn.socket.once('data', () => {
      conn.socket.pause()
      resolve()
    }),
  )
  conn.socket.write('GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await started
  return {
    ...conn,
    closedByServer: () => {
      conn.socket.resume()
      return conn.closed
    },
  }
}

/** A client that sends the headers and half the body of a POST /up, then nothing more. */
async function halfSent(port: number, ctx: Running['ctx']) {
  const conn = await rawConnection(port)
  conn.socket.write(
    'POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n',
  )
  conn.socket.write('x'.repeat(500))
  await vi.waitFor(() => expect(ctx.routes().find((r) => r.id === 'up')?.pending).toBe(1))
  return conn
}

describe('bounded close of the http component', () => {
  it('once its signal aborts, destroys every socket and resolves promptly, whatever the clients do', async () => {
    const { ctx, http, port } = await startServer()
    const reader = await neverReads(port)
    const uploader = await halfSent(port, ctx)
    const deadline = new AbortController()
    let settled = false
    const closing = Promise.resolve(http.close?.({ forced: false, signal: deadline.signal })).then(
      () => (settled = true),
    )
    // Graceful: it waits for the answer nobody reads.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(settled).toBe(false)

    deadline.abort()
    const t0 = performance.now()
    await closing
    expect(performance.now() - t0).toBeLessThan(500)
    await Promise.all([reader.closedByServer(), uploader.closed])
    // The half-sent request was answered before its socket went, as far as the socket would take it.
    expect(await uploader.until(() => true)).toMatch(/^HTTP\/1\.1 503 /)
  })

  it('ends at once when the signal has already aborted, and a later close adds its signal to one under way', async () => {
    const { http, port } = await startServer()
    const reader = await neverReads(port)
    const first = Promise.resolve(http.close?.({ forced: false }))
    const deadline = new AbortController()
    const second = Promise.resolve(http.close?.({ forced: true, signal: deadline.signal }))
    deadline.abort()
    const t0 = performance.now()
    await Promise.all([first, second])
    expect(performance.now() - t0).toBeLessThan(500)
    await reader.closedByServer()
  })
})

type Client = 'neverReads' | 'halfSent' | 'idleKeepAlive' | 'tricklesHeaders' | 'silent'

/** Opens one client of `kind`; resolves with a function that resolves once the server closed its connection. */
async function openClient(kind: Client, port: number, ctx: Running['ctx']): Promise<() => Promise<unknown>> {
  if (kind === 'neverReads') return (await neverReads(port)).closedByServer
  if (kind === 'halfSent') {
    const conn = await rawConnection(port)
    const before = ctx.routes().find((r) => r.id === 'up')?.pending ?? 0
    conn.socket.write(
      'POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nxx',
    )
    await vi.waitFor(() => expect(ctx.routes().find((r) => r.id === 'up')?.pending).toBe(before + 1))
    return () => conn.closed
  }
  const conn = await rawConnection(port)
  if (kind === 'idleKeepAlive') {
    conn.socket.write('GET /up HTTP/1.1\r\nHost: x\r\n\r\n')
    await conn.until((d) => d.includes('\r\n\r\n'))
  } else if (kind === 'tricklesHeaders') conn.socket.write('GET /big HTTP/1.1\r\nX-A: 1\r\n')
  return () => conn.closed
}

describe('bounded close of the http component, whatever the clients (property)', () => {
  it('resolves promptly once its signal aborts and leaves no connection open', async () => {
    const kinds = fc.constantFrom<Client>(
      'neverReads',
      'halfSent',
      'idleKeepAlive',
      'tricklesHeaders',
      'silent',
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(kinds, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 100 }),
        async (clients, forced, abortAfterMs) => {
          const { ctx, http, port } = await startServer()
          try {
            const closedByServer = []
            for (const kind of clients) closedByServer.push(await openClient(kind, port, ctx))
            const deadline = new AbortController()
            const closing = Promise.resolve(http.close?.({ forced, signal: deadline.signal }))
            await new Promise((resolve) => setTimeout(resolve, abortAfterMs))
            deadline.abort()
            const t0 = performance.now()
            await closing
            expect(performance.now() - t0).toBeLessThan(500)
            await Promise.all(closedByServer.map((closed) => closed()))
          } finally {
            await ctx.forceStop()
          }
        },
      ),
      { numRuns: 12 },
    )
  })
})

describe('bounded shutdown of a context with http routes', () => {
  const nowBudgetMs = 300

  it('forceStop() resolves within nowBudgetMs + 1 s with a client that never reads and a request half sent', async () => {
    const { ctx, port } = await startServer({ shutdown: { nowBudgetMs } })
    const reader = await neverReads(port)
    const uploader = await halfSent(port, ctx)
    const t0 = performance.now()
    await ctx.forceStop()
    expect(performance.now() - t0).toBeLessThan(nowBudgetMs + 1000)
    await Promise.all([reader.closedByServer(), uploader.closed])
  })

  // Needs the context to pass its NOW deadline to Component.close as `signal` (the bounded-shutdown core work):
  // without it the component closes gracefully on its own bounds, about 2.4 s here.
  it('stop() resolves within timeoutMs + nowBudgetMs + 1 s with a client that never reads its answer', async () => {
    const { ctx, port } = await startServer({ shutdown: { nowBudgetMs } })
    const reader = await neverReads(port)
    const timeoutMs = 500
    const t0 = performance.now()
    await ctx.stop({ timeoutMs })
    expect(performance.now() - t0).toBeLessThan(timeoutMs + nowBudgetMs + 1000)
    await reader.closedByServer()
  })
})
