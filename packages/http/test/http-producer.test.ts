import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createContext, isDromedaryError, type IntegrationContext } from '@dromedary/core'
import { httpComponent, HttpErrorCodes, type HttpOperationFailedError } from '@dromedary/http'
import { deferred } from './support.js'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

let backend: Server
let base: string
let seen: Seen[]
let hanging: ReturnType<typeof deferred<IncomingMessage>>
let ctx: IntegrationContext

function respond(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
  if (req.url?.startsWith('/hang')) return hanging.resolve(req)
  if (req.url?.startsWith('/missing')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such thing"}')
    return
  }
  if (req.url?.startsWith('/text')) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('plain words')
    return
  }
  if (req.url?.startsWith('/empty')) {
    res.writeHead(204).end()
    return
  }
  res
    .writeHead(201, { 'content-type': 'application/json; charset=utf-8' })
    .end(JSON.stringify({ echo: body }))
}

beforeEach(async () => {
  seen = []
  hanging = deferred<IncomingMessage>()
  backend = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => respond(req, res, body))
  })
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`
  ctx = createContext({ logger: false }).addComponent('http', httpComponent({ port: 0 }))
})

afterEach(async () => {
  await ctx.forceStop()
  backend.closeAllConnections()
  await new Promise((resolve) => backend.close(resolve))
})

describe('http producer', () => {
  it('POSTs an object body as JSON and maps status, content type and the parsed JSON reply back', async () => {
    await ctx.start()
    const ex = await ctx
      .producer()
      .send(`${base}/orders?src=test`, { id: 7 }, { 'x-trace-id': 'abc', 'http.path': '/in' })
    expect(ex.exception).toBeUndefined()
    expect(ex.message.headers['http.status']).toBe(201)
    expect(ex.message.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(ex.message.body).toEqual({ echo: '{"id":7}' })
    const req = seen[0]!
    expect(req.method).toBe('POST')
    expect(req.url).toBe('/orders?src=test')
    expect(req.headers['content-type']).toBe('application/json')
    expect(req.headers['x-trace-id']).toBe('abc')
    expect(req.headers['http.path']).toBeUndefined()
  })

  it('uses GET without a body, the http.method header, or the httpMethod option (removed from the URL)', async () => {
    await ctx.start()
    await ctx.producer().send(`${base}/a`, null)
    await ctx.producer().send(`${base}/b`, 'x', { 'http.method': 'put' })
    await ctx.producer().send(`${base}/c?httpMethod=DELETE&keep=1`, 'x', { 'http.method': 'PUT' })
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /a', 'PUT /b', 'DELETE /c?keep=1'])
    expect(seen[1]!.headers['content-type']).toBe('text/plain; charset=utf-8')
  })

  it('passes query parameters named after Object.prototype members through to the remote URL', async () => {
    await ctx.start()
    const ex = await ctx.producer().send(`${base}/p?__proto__=x&constructor=y&toString=z`, null)
    expect(ex.exception).toBeUndefined()
    expect(seen[0]!.url).toBe('/p?__proto__=x&constructor=y&toString=z')
  })

  it('reads a text reply as a string and an empty one as null', async () => {
    await ctx.start()
    expect(await ctx.producer().request(`${base}/text`, null)).toBe('plain words')
    const empty = await ctx.producer().send(`${base}/empty`, null)
    expect(empty.message.headers['http.status']).toBe(204)
    expect(empty.message.body).toBeNull()
  })

  it('fails the exchange on a non-2xx answer, unless throwExceptionOnFailure=false', async () => {
    await ctx.start()
    const failed = await ctx.producer().send(`${base}/missing`, null)
    expect(isDromedaryError(failed.exception, HttpErrorCodes.OPERATION_FAILED)).toBe(true)
    const err = failed.exception as HttpOperationFailedError
    expect(err.statusCode).toBe(404)
    expect(err.responseBody).toEqual({ error: 'no such thing' })
    const mapped = await ctx.producer().send(`${base}/missing?throwExceptionOnFailure=false`, null)
    expect(mapped.exception).toBeUndefined()
    expect(mapped.message.headers['http.status']).toBe(404)
    expect(seen[1]!.url).toBe('/missing')
  })

  it('rejects a bad option value with DROMEDARY_ERR_INVALID_OPTION', async () => {
    expect(() =>
      ctx.addRoutes((r) => r.from('direct:x').to(`${base}/a?throwExceptionOnFailure=maybe`)),
    ).toThrow(expect.objectContaining({ code: 'DROMEDARY_ERR_INVALID_OPTION' }))
  })

  it('aborts the request through exchange.signal when a forced stop aborts the exchange', async () => {
    await ctx.addRoutes((r) => r.from('direct:call').routeId('caller').to(`${base}/hang`))
    await ctx.start()
    const sent = ctx.producer().send('direct:call', { q: 1 })
    const req = await hanging.promise
    const aborted = new Promise<void>((resolve) => req.socket.once('close', () => resolve()))
    const report = await ctx.forceStop()
    await aborted
    expect(report.routes.find((r) => r.id === 'caller')?.aborted).toBe(1)
    const ex = await sent
    expect(isDromedaryError(ex.exception, HttpErrorCodes.REQUEST_FAILED)).toBe(true)
  })

  it('aborts the request after the timeout option', async () => {
    await ctx.start()
    const ex = await ctx.producer().send(`${base}/hang?timeout=50ms`, null)
    expect(isDromedaryError(ex.exception, HttpErrorCodes.REQUEST_FAILED)).toBe(true)
    // The timeout, not the server, ended it: the cause is the timeout's abort. Whether the server read the
    // request before the client gave up depends on the machine's load, so only a request it did read is
    // checked for its path.
    expect((ex.exception as Error).cause).toMatchObject({ name: 'TimeoutError' })
    expect(seen.map((s) => s.url)).toEqual(seen.length === 0 ? [] : ['/hang'])
  })
})
