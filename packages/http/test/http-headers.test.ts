import type { IncomingMessage } from 'node:http'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isReservedHeader, UNSAFE_FORWARD_HEADERS, type IntegrationContext } from '@dromedary/core'
import type { HttpComponentOptions } from '@dromedary/http'
import {
  rawConnection,
  send,
  startBackend,
  startHttp,
  startOutbound,
  type Backend,
  type Running,
} from './support.js'

let running: Running | undefined
afterEach(async () => {
  await running?.ctx.forceStop()
  running = undefined
})

describe('inbound request headers', () => {
  it('drops request headers in the reserved namespaces, so http.status: 500 does not become the status', async () => {
    let seen: Record<string, unknown> = {}
    running = await startHttp((r) =>
      r.from('http:/in').process((ex) => {
        seen = { ...ex.message.headers }
      }),
    )
    const a = await send(running.port, 'GET', '/in', {
      headers: {
        'http.status': '500',
        'HTTP.ResponseHeaders': '{"x-evil":"1"}',
        'http.method': 'DELETE',
        'dromedary.breadcrumb': 'forged',
        'amqp.routingKey': 'elsewhere',
        'tkv.key': 'k',
        'x-kept': 'yes',
        'my.dotted': 'kept',
      },
    })
    expect(a.status).toBe(200)
    expect(a.headers['x-evil']).toBeUndefined()
    expect(seen['http.method']).toBe('GET')
    expect(seen['http.status']).toBeUndefined()
    expect(seen['http.responseheaders']).toBeUndefined()
    expect(
      Object.keys(seen).filter(
        (k) => k.startsWith('dromedary.') || k.startsWith('amqp.') || k.startsWith('tkv.'),
      ),
    ).toEqual([])
    expect(seen['x-kept']).toBe('yes')
    expect(seen['my.dotted']).toBe('kept')
  })

  it('drops a reserved header that a raw client sends in any letter case', async () => {
    let seen: Record<string, unknown> = {}
    running = await startHttp((r) =>
      r.from('http:/in').process((ex) => {
        seen = { ...ex.message.headers }
      }),
    )
    const conn = await rawConnection(running.port)
    conn.socket.write(
      'GET /in HTTP/1.1\r\nHost: x\r\nHttp.Status: 503\r\nDromedary.Trace: 1\r\nTKV.Key: k\r\nConnection: close\r\n\r\n',
    )
    const text = await conn.until((d) => d.includes('\r\n\r\n'))
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    expect(Object.keys(seen).filter(isReservedHeader).sort()).toEqual([
      'http.method',
      'http.params',
      'http.path',
      'http.query',
    ])
  })

  it('asks headerFilter.inbound about every other request header', async () => {
    let seen: Record<string, unknown> = {}
    running = await startHttp(
      (r) =>
        r.from('http:/in').process((ex) => {
          seen = { ...ex.message.headers }
        }),
      { headerFilter: { inbound: (name) => name !== 'cookie' } },
    )
    await send(running.port, 'GET', '/in', {
      headers: { cookie: 'session=1', 'x-a': '1', 'http.status': '1' },
    })
    expect(seen.cookie).toBeUndefined()
    expect(seen['x-a']).toBe('1')
    expect(seen['http.status']).toBeUndefined()
  })
})

describe('outbound request headers', () => {
  let backend: Backend
  let base: string
  let seen: IncomingMessage['headers'][]
  let ctx: IntegrationContext

  beforeEach(async () => {
    seen = []
    backend = await startBackend((req, res) => {
      seen.push(req.headers)
      req.resume()
      req.on('end', () => res.end('ok'))
    })
    base = backend.base
  })

  afterEach(async () => {
    await ctx.forceStop()
    await backend.close()
  })

  async function start(options: HttpComponentOptions = {}) {
    ctx = await startOutbound(options)
  }

  const hostile = {
    authorization: 'Bearer caller-token',
    cookie: 'session=caller',
    'proxy-authorization': 'Basic eA==',
    'set-cookie': 'a=b',
    'www-authenticate': 'Basic',
    host: 'evil.example',
    connection: 'upgrade',
    upgrade: 'websocket',
    te: 'trailers',
    trailer: 'x-t',
    'keep-alive': 'timeout=1',
    'transfer-encoding': 'chunked',
    'content-length': '999',
    'proxy-connection': 'keep-alive',
    'http.status': 500,
    'http.method': 'GET',
    'dromedary.secret': 'x',
    'amqp.messageId': 'm1',
    'tkv.key': 'k',
    'x-trace-id': 'abc',
  }

  it('sends no reserved, hop-by-hop or credential header by default, and the safe ones', async () => {
    await start()
    const ex = await ctx.producer().send(`${base}/a`, 'body', hostile)
    expect(ex.exception).toBeUndefined()
    const h = seen[0]!
    expect(h['x-trace-id']).toBe('abc')
    expect(h.host).toBe(base.slice('http://'.length))
    for (const name of Object.keys(hostile).filter((n) => n !== 'x-trace-id' && n !== 'host'))
      expect(h[name.toLowerCase()], name).not.toBe(String(hostile[name as keyof typeof hostile]))
    expect(h.authorization).toBeUndefined()
    expect(h.cookie).toBeUndefined()
    expect(Object.keys(h).filter(isReservedHeader)).toEqual([])
  })

  it('sends credential headers a headerFilter allows, but never a reserved name', async () => {
    await start({ headerFilter: { outbound: () => true } })
    await ctx.producer().send(`${base}/a`, 'body', hostile)
    const h = seen[0]!
    expect(h.authorization).toBe('Bearer caller-token')
    expect(h.cookie).toBe('session=caller')
    expect(Object.keys(h).filter(isReservedHeader)).toEqual([])
    // Framing headers stay fetch's: the request (a GET, from http.method) is not corrupted.
    expect(h['content-length']).toBeUndefined()
    expect(h['transfer-encoding']).toBeUndefined()
    expect(h.upgrade).toBeUndefined()
    expect(h.connection).toBe('keep-alive')
  })

  it('never sends a reserved or unsafe header, whatever the names and values (property)', async () => {
    await start()
    const reserved = fc
      .tuple(
        fc.constantFrom('http.', 'HTTP.', 'amqp.', 'Dromedary.', 'tkv.'),
        fc.stringMatching(/^[a-z-]{1,10}$/),
      )
      .map(([p, s]) => p + s)
    const unsafe = fc
      .constantFrom(...UNSAFE_FORWARD_HEADERS)
      .map((n) => (n.length % 2 === 0 ? n.toUpperCase() : n))
    const plain = fc.stringMatching(/^x-[a-z0-9-]{1,12}$/)
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.oneof(reserved, unsafe, plain), fc.stringMatching(/^[a-zA-Z0-9 ]{0,16}$/), {
          maxKeys: 12,
        }),
        async (headers) => {
          seen = []
          const ex = await ctx.producer().send(`${base}/p`, null, headers)
          expect(ex.exception).toBeUndefined()
          const got = seen[0]!
          expect(Object.keys(got).filter(isReservedHeader)).toEqual([])
          for (const name of Object.keys(headers)) {
            const lower = name.toLowerCase()
            if (lower === 'host' || lower === 'connection') continue // set by the client itself
            if (UNSAFE_FORWARD_HEADERS.has(lower)) expect(got[lower], name).not.toBe(headers[name])
            else if (!isReservedHeader(name)) expect(got[lower], name).toBe(headers[name]!.trim())
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
