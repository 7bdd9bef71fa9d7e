import { afterEach, describe, expect, it } from 'vitest'
import { httpComponent, HttpErrorCodes } from '@dromedary/http'
import { resolveHttpOptions } from '../src/http-options.js'
import { rawConnection, send, startHttp, type Running } from './support.js'

let running: Running | undefined
afterEach(async () => {
  await running?.ctx.forceStop()
  running = undefined
})

/**
 * A slow client on a connection of its own: writes `head`, then one byte of `drip` every `everyMs` until the
 * server closes the connection. Resolves with what the server sent, once the connection is closed, or with
 * `open` true when it is still open after `giveUpMs` (the client then closes it).
 */
async function slowClient(port: number, head: string, drip: string, everyMs: number, giveUpMs: number) {
  const conn = await rawConnection(port)
  let received = ''
  conn.socket.on('data', (c: Buffer) => (received += c.toString('latin1')))
  conn.socket.write(head)
  let i = 0
  const timer = setInterval(() => {
    if (conn.socket.writable) conn.socket.write(drip[i++ % drip.length]!)
  }, everyMs)
  const giveUp = new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), giveUpMs).unref())
  // Once the server has answered and half-closed, the client closes its side too (as any client would).
  conn.socket.on('end', () => conn.socket.end())
  const outcome = await Promise.race([conn.closed.then(() => 'closed' as const), giveUp])
  clearInterval(timer)
  if (outcome === 'open') conn.socket.destroy()
  return { open: outcome === 'open', received, events: conn.events }
}

const UPLOAD =
  'POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n'

describe('inbound timeouts', () => {
  it('answers 20 uploads trickling a byte at a time with 408 problem+json once requestTimeoutMs passes, and closes them', async () => {
    running = await startHttp(
      (r) =>
        r
          .from('http:/up?method=POST')
          .routeId('up')
          .setBody(() => 'never'),
      {
        requestTimeoutMs: 600,
        headersTimeoutMs: 300,
      },
    )
    const { port } = running
    const clients = Array.from({ length: 20 }, () => slowClient(port, UPLOAD, '          ', 50, 8000))
    // Meanwhile the server answers others.
    expect(
      (await send(port, 'POST', '/up', { headers: { 'content-type': 'application/json' }, body: '{}' }))
        .status,
    ).toBe(200)
    const results = await Promise.all(clients)
    expect(results.filter((r) => r.open)).toHaveLength(0)
    for (const r of results) {
      expect(r.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
      expect(r.received).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i)
      expect(r.received).toMatch(/\r\nconnection: close\r\n/i)
      const body = JSON.parse(r.received.slice(r.received.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
      expect(body).toMatchObject({ type: 'about:blank', status: 408, instance: '/up' })
    }
    const text = await running.ctx.metrics!.metrics()
    expect(text).toContain('dromedary_http_requests_total{route="up",status="408"} 20')
  })

  it('does not time out a request whose body has arrived while its route works longer than requestTimeoutMs', async () => {
    running = await startHttp(
      (r) =>
        r
          .from('http:/slow?method=POST')
          .delay(900)
          .setBody(() => 'done'),
      {
        requestTimeoutMs: 300,
        headersTimeoutMs: 200,
      },
    )
    const a = await send(running.port, 'POST', '/slow', {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(a.status).toBe(200)
    expect(a.text).toBe('done')
  })

  it('answers a client trickling its headers with 408 once headersTimeoutMs passes', async () => {
    running = await startHttp((r) => r.from('http:/in').setBody(() => 'never'), {
      requestTimeoutMs: 5000,
      headersTimeoutMs: 300,
    })
    const r = await slowClient(running.port, 'GET /in HTTP/1.1\r\n', 'X-Slow: 1\r\n', 50, 8000)
    expect(r.open).toBe(false)
    expect(r.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
  })

  it('closes a connection that sends nothing at all after headersTimeoutMs', async () => {
    running = await startHttp((r) => r.from('http:/in').setBody(() => 'never'), {
      requestTimeoutMs: 5000,
      headersTimeoutMs: 300,
    })
    const r = await slowClient(running.port, '', '', 1000, 8000)
    expect(r.open).toBe(false)
  })

  it('closes an idle keep-alive connection after keepAliveTimeoutMs, with a FIN', async () => {
    running = await startHttp((r) => r.from('http:/in').setBody(() => 'pong'), { keepAliveTimeoutMs: 200 })
    const conn = await rawConnection(running.port)
    conn.socket.write('GET /in HTTP/1.1\r\nHost: x\r\n\r\n')
    await conn.until((d) => d.endsWith('pong'))
    const closed = await Promise.race([
      conn.closed.then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('open'), 5000).unref()),
    ])
    conn.socket.destroy()
    expect(closed).toBe('closed')
    expect(conn.events).toEqual(['end'])
  })

  it('defaults to a 30 s request, 10 s headers and 5 s keep-alive timeout, and a 10 MiB response cap', () => {
    expect(resolveHttpOptions({})).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      retryAfterSeconds: 5,
      maxResponseBytes: 10 * 1024 * 1024,
    })
  })

  it('refuses bad durations with DROMEDARY_ERR_HTTP_INVALID_OPTIONS naming the option', () => {
    const bad: Array<[string, unknown]> = [
      ['requestTimeoutMs', -1],
      ['requestTimeoutMs', 0],
      ['requestTimeoutMs', 1.5],
      ['requestTimeoutMs', Number.NaN],
      ['requestTimeoutMs', Number.POSITIVE_INFINITY],
      ['requestTimeoutMs', 2 ** 31],
      ['headersTimeoutMs', '5s'],
      ['keepAliveTimeoutMs', 1e12],
      ['retryAfterSeconds', 1.5],
      ['retryAfterSeconds', -1],
      ['retryAfterSeconds', 2 ** 32],
      ['maxResponseBytes', 0],
    ]
    for (const [option, value] of bad) {
      let err: unknown
      try {
        httpComponent({ [option]: value })
      } catch (e) {
        err = e
      }
      expect(err, `${option}=${String(value)}`).toMatchObject({ code: HttpErrorCodes.INVALID_OPTIONS })
      expect((err as Error).message).toContain(`"${option}"`)
    }
    expect(() => httpComponent({ requestTimeoutMs: 1000, headersTimeoutMs: 2000 })).toThrow(
      /headersTimeoutMs/,
    )
    expect(() => httpComponent({ requestTimeoutMs: 2_147_483_647, headersTimeoutMs: 1 })).not.toThrow()
  })
})
