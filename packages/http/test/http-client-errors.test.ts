import { afterEach, describe, expect, it } from 'vitest'
import { rawConnection, startHttp, type Running } from './support.js'

let running: Running | undefined
afterEach(async () => {
  await running?.ctx.stop({ timeoutMs: 5000 })
  running = undefined
})

/** A raw connection whose `answer()` resolves once a complete answer (headers and its body) is in. */
async function rawAnswering(port: number) {
  const conn = await rawConnection(port)
  const answer = (withBody = true): Promise<string> =>
    conn.until((data) => {
      const end = data.indexOf('\r\n\r\n')
      const length = Number(/content-length: *(\d+)/i.exec(data)?.[1] ?? NaN)
      return end !== -1 && (!withBody || data.length >= end + 4 + length)
    })
  return { ...conn, answer }
}

describe('http requests the parser rejects', () => {
  it('answers 400 problem+json with Connection: close and closes without a reset while the client still sends', async () => {
    running = await startHttp((r) => r.from('http:/in').setBody(() => 'never'))
    const conn = await rawAnswering(running.port)
    const size = 4 * 1024 * 1024
    // An unknown method: the parser fails on the request line, long before the 4 MiB body has arrived.
    conn.socket.write(`FOO /in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${size}\r\n\r\n`)
    const text = await conn.answer()
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(text).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i)
    expect(text).toMatch(/\r\nconnection: close\r\n/i)
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
    expect(body).toMatchObject({ type: 'about:blank', title: 'Bad Request', status: 400 })
    expect(JSON.stringify(body)).not.toMatch(/\bat .+:\d+:\d+/)

    // The client goes on sending the body it had started: the server keeps reading (lingering close), so
    // the connection ends with a FIN, never a reset.
    const chunk = Buffer.alloc(64 * 1024, 0x78)
    for (let sent = 0; sent < size && !conn.socket.destroyed; sent += chunk.length)
      if (!conn.socket.write(chunk))
        await new Promise<void>((resolve) => {
          conn.socket.once('drain', resolve)
          conn.socket.once('close', resolve)
        })
    conn.socket.end()
    const hadError = await conn.closed
    expect(conn.events).toEqual(['end'])
    expect(hadError).toBe(false)
  })

  it('answers headers over the limit with 431, and a HEAD request without a body', async () => {
    running = await startHttp((r) => r.from('http:/in').setBody(() => 'never'))
    const conn = await rawAnswering(running.port)
    conn.socket.write(`HEAD /in HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`)
    const text = await conn.answer(false)
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
    expect(text).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i)
    conn.socket.end()
    expect(await conn.closed).toBe(false)
    expect(text.endsWith('\r\n\r\n')).toBe(true)
    expect(conn.events).toEqual(['end'])
  })

  it('answers a keep-alive request normally and the malformed one after it with 400', async () => {
    running = await startHttp((r) => r.from('http:/in').setBody(() => 'fine'))
    const conn = await rawAnswering(running.port)
    conn.socket.write(`GET /in HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    expect(await conn.answer()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nfine$/)
    conn.socket.write(
      `GET /in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
    )
    conn.socket.end()
    expect(await conn.closed).toBe(false)
    const second = (await conn.answer()).split('fine')[1] ?? ''
    expect(second).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(conn.events).toEqual(['end'])
  })
})
