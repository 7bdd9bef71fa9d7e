import { afterEach, describe, expect, it, vi } from 'vitest'
import { deferred, nextEvent, rawConnection, send, startHttp, type Running } from './support.js'

let running: Running | undefined
afterEach(async () => {
  await running?.ctx.forceStop()
  running = undefined
})

const BODY = JSON.stringify({ n: 7, pad: 'x'.repeat(4000) })

/** Starts a POST /up whose body is sent only in part: the rest is sent by `finish()`. */
async function startUpload(port: number) {
  const conn = await rawConnection(port)
  conn.socket.write(
    `POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n`,
  )
  conn.socket.write(BODY.slice(0, 100))
  // Once answered and half-closed, the client closes too.
  conn.socket.on('end', () => conn.socket.end())
  return {
    ...conn,
    finish: () => conn.socket.write(BODY.slice(100)),
    /** What the server sent, once a whole answer is in or the connection is closed. */
    answer: () =>
      Promise.race([
        conn.until((d) => /\r\n\r\n[\s\S]*\}$/.test(d)),
        conn.closed.then(() => conn.until(() => true)),
      ]),
  }
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
}

function uploadRoutes(seen: unknown[]) {
  return (r: Parameters<Parameters<typeof startHttp>[0]>[0]) => {
    r.from<{ n: number }>('http:/up?method=POST')
      .routeId('up')
      .process((ex) => void seen.push(ex.message.body))
      .setBody((ex) => ({ got: ex.message.body.n }))
    r.from('http:/other')
      .routeId('other')
      .setBody(() => 'other')
  }
}

describe('an upload still arriving when intake stops', () => {
  it('is in flight: the drain waits for it, it is processed and answered 200, and the stop is graceful', async () => {
    const seen: unknown[] = []
    running = await startHttp(uploadRoutes(seen))
    const { ctx, port } = running
    const upload = await startUpload(port)
    await vi.waitFor(() => expect(ctx.routes().find((r) => r.id === 'up')?.pending).toBe(1))

    const draining = nextEvent(ctx, 'shutdown-progress')
    const stopping = ctx.stop({ timeoutMs: 10_000 })
    await draining
    expect((await send(port, 'GET', '/other')).status).toBe(503) // intake has stopped

    upload.finish()
    const text = await upload.answer()
    expect(statusOf(text)).toBe(200)
    expect(text.endsWith('{"got":7}')).toBe(true)
    expect(seen).toHaveLength(1)
    const report = await stopping
    expect(report.graceful).toBe(true)
    expect(report.routes.find((r) => r.id === 'up')).toMatchObject({ pendingAtStart: 1, aborted: 0 })
  })

  it('gets 503 with Retry-After when the stop times out, and the report says it was not graceful', async () => {
    const seen: unknown[] = []
    running = await startHttp(uploadRoutes(seen))
    const { ctx, port } = running
    const upload = await startUpload(port)
    await vi.waitFor(() => expect(ctx.routes().find((r) => r.id === 'up')?.pending).toBe(1))

    const report = await ctx.stop({ timeoutMs: 300 })
    const text = await upload.answer()
    expect(statusOf(text)).toBe(503)
    expect(text).toMatch(/\r\nretry-after: 5\r\n/i)
    expect(text).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i)
    expect(report.graceful).toBe(false)
    expect(report.timedOut).toBe(true)
    expect(report.routes.find((r) => r.id === 'up')?.aborted).toBe(1)
    expect(await upload.closed).toBe(false)
    expect(seen).toEqual([])
  })

  it('gets 503 at once on a forced stop', async () => {
    running = await startHttp(uploadRoutes([]))
    const { ctx, port } = running
    const upload = await startUpload(port)
    await vi.waitFor(() => expect(ctx.routes().find((r) => r.id === 'up')?.pending).toBe(1))
    const report = await ctx.forceStop()
    expect(statusOf(await upload.answer())).toBe(503)
    expect(report.forced).toBe(true)
    const text = await ctx.metrics!.metrics()
    expect(text).toContain('dromedary_http_requests_total{route="up",status="503"} 1')
    expect(text).toContain('dromedary_http_rejected_total{reason="shutting_down"} 1')
  })

  it('one that started after intake stopped is not processed: it gets 503 at NOW, not a closed connection', async () => {
    const seen: unknown[] = []
    const gate = deferred()
    const holding = deferred()
    running = await startHttp((r) => {
      uploadRoutes(seen)(r)
      r.from('http:/hold')
        .routeId('hold')
        .process(async () => {
          holding.resolve()
          await gate.promise
        })
    })
    const { ctx, port } = running
    const held = send(port, 'GET', '/hold')
    await holding.promise
    const draining = nextEvent(ctx, 'shutdown-progress')
    const stopping = ctx.stop({ timeoutMs: 10_000 })
    await draining
    const upload = await startUpload(port)
    gate.resolve()
    expect((await held).status).toBe(200)
    const text = await upload.answer()
    expect(statusOf(text)).toBe(503)
    expect((await stopping).graceful).toBe(true)
    expect(seen).toEqual([])
  })

  it('stops counting an admitted upload the moment it fails or its client goes away', async () => {
    running = await startHttp(uploadRoutes([]), { bodyLimit: 1000 })
    const { ctx, port } = running
    const pending = () => ctx.routes().find((r) => r.id === 'up')?.pending
    const chunked = async () => {
      const conn = await rawConnection(port)
      conn.socket.write(
        'POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      )
      conn.socket.write('a\r\n{"n":1,   \r\n')
      await vi.waitFor(() => expect(pending()).toBe(1))
      return conn
    }
    const gone = await chunked()
    gone.socket.destroy()
    await vi.waitFor(() => expect(pending()).toBe(0))
    // Over bodyLimit while it arrives: 413, and no longer pending.
    const tooLarge = await chunked()
    tooLarge.socket.write(`7d0\r\n${' '.repeat(2000)}\r\n`)
    expect(statusOf(await tooLarge.until((d) => d.includes('\r\n\r\n')))).toBe(413)
    await vi.waitFor(() => expect(pending()).toBe(0))
    const report = await ctx.stop({ timeoutMs: 5000 })
    expect(report.graceful).toBe(true)
    expect(report.routes.find((r) => r.id === 'up')?.pendingAtStart).toBe(0)
  })
})
