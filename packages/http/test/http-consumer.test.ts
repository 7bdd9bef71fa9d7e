import { afterEach, describe, expect, it } from 'vitest'
import { createContext, isDromedaryError } from '@dromedary/core'
import { httpComponent, HttpErrorCodes } from '@dromedary/http'
import { send, startHttp, type Running } from './support.js'

let running: Running | undefined
afterEach(async () => {
  await running?.ctx.stop({ timeoutMs: 5000 })
  running = undefined
})

function expectProblem(
  answer: { status: number; headers: Record<string, unknown>; text: string; json: unknown },
  status: number,
) {
  expect(answer.status).toBe(status)
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(answer.json).toMatchObject({ type: 'about:blank', status })
  expect(answer.text).not.toMatch(/\bat .+:\d+:\d+/) // no stack frame
  expect(answer.text).not.toContain('stack')
}

describe('http consumer', () => {
  it('replies with the final message body, as JSON for an object', async () => {
    running = await startHttp((r) => r.from('http:/hello?method=GET').setBody(() => ({ hello: 'world' })))
    const a = await send(running.port, 'GET', '/hello')
    expect(a.status).toBe(200)
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(a.json).toEqual({ hello: 'world' })
  })

  it('maps path params, query, headers and the JSON body onto the exchange', async () => {
    let seen: { body: unknown; headers: Record<string, unknown> } | undefined
    running = await startHttp((r) =>
      r
        .from('http:/orders/:id/lines/:line?method=POST')
        .process((ex) => {
          seen = { body: ex.message.body, headers: { ...ex.message.headers } }
        })
        .setBody(() => 'ok'),
    )
    const a = await send(running.port, 'POST', '/orders/42/lines/a%20b?expand=true&tag=x&tag=y', {
      headers: { 'content-type': 'application/json', 'X-Trace-Id': 'abc' },
      body: JSON.stringify({ qty: 3 }),
    })
    expect(a.status).toBe(200)
    expect(a.text).toBe('ok')
    expect(seen?.body).toEqual({ qty: 3 })
    const h = seen!.headers
    expect(h['x-trace-id']).toBe('abc')
    expect(h['http.method']).toBe('POST')
    expect(h['http.path']).toBe('/orders/42/lines/a%20b')
    expect(h['http.params']).toEqual({ id: '42', line: 'a b' })
    expect({ ...(h['http.query'] as object) }).toEqual({ expand: 'true', tag: ['x', 'y'] })
  })

  it('takes the status from http.status and extra headers from http.responseHeaders', async () => {
    running = await startHttp((r) =>
      r
        .from('http:/things?method=PUT')
        .setHeader('http.status', 201)
        .setHeader('http.responseHeaders', { location: '/things/7', 'x-count': 1 })
        .setBody(() => Buffer.from('raw')),
    )
    const a = await send(running.port, 'PUT', '/things', {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(a.status).toBe(201)
    expect(a.headers.location).toBe('/things/7')
    expect(a.headers['x-count']).toBe('1')
    expect(a.headers['content-type']).toBe('application/octet-stream')
    expect(a.text).toBe('raw')
  })

  it('does not let a client choose the status with an http.status request header', async () => {
    running = await startHttp((r) => r.from('http:/x').setBody(() => 'fine'))
    const a = await send(running.port, 'GET', '/x', { headers: { 'http.status': '204' } })
    expect(a.status).toBe(200)
    expect(a.text).toBe('fine')
  })

  it('answers bad JSON with 400 application/problem+json', async () => {
    running = await startHttp((r) => r.from('http:/in?method=POST').setBody(() => 'never'))
    const a = await send(running.port, 'POST', '/in', {
      headers: { 'content-type': 'application/json' },
      body: '{"broken": ',
    })
    expectProblem(a, 400)
    expect(a.json).toMatchObject({ title: 'Bad Request', instance: '/in' })
  })

  it('answers a body over bodyLimit with 413 application/problem+json', async () => {
    running = await startHttp((r) => r.from('http:/in?method=POST').setBody(() => 'never'), {
      bodyLimit: 1024,
    })
    const a = await send(running.port, 'POST', '/in', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(2048) }),
    })
    expectProblem(a, 413)
    expect((a.json as { detail: string }).detail).toContain('1024 bytes')
  })

  it('answers a failed exchange with 500 problem+json that leaks neither message nor stack', async () => {
    running = await startHttp((r) =>
      r.from('http:/boom').process(() => {
        throw new Error('secret database password in message')
      }),
    )
    const a = await send(running.port, 'GET', '/boom')
    expectProblem(a, 500)
    expect(a.text).not.toContain('secret')
    expect(a.json).toHaveProperty('exchangeId')
  })

  it('answers an async route after its exchange completes', async () => {
    running = await startHttp((r) =>
      r
        .from<{ n: number }>('http:/double?method=POST')
        .delay(5)
        .transform((ex) => ({ n: ex.message.body.n * 2 })),
    )
    const a = await send(running.port, 'POST', '/double', {
      headers: { 'content-type': 'application/json' },
      body: '{"n":21}',
    })
    expect(a.json).toEqual({ n: 42 })
  })

  it('answers 404 for an unknown path and 405 with Allow for a known path and another method', async () => {
    running = await startHttp((r) => r.from('http:/only-get?method=GET').setBody(() => 'x'))
    expectProblem(await send(running.port, 'GET', '/nowhere'), 404)
    const a = await send(running.port, 'DELETE', '/only-get')
    expectProblem(a, 405)
    expect(a.headers.allow).toBe('GET')
  })

  it('serves several routes of one port from one server', async () => {
    running = await startHttp((r) => {
      r.from('http:/a?method=GET')
        .routeId('a')
        .setBody(() => 'A')
      r.from('http:/a?method=POST')
        .routeId('a-post')
        .setBody(() => 'A-post')
      r.from('http:/b/:id')
        .routeId('b')
        .setBody((ex) => `B${String((ex.message.headers['http.params'] as { id: string }).id)}`)
    })
    expect((await send(running.port, 'GET', '/a')).text).toBe('A')
    expect((await send(running.port, 'POST', '/a')).text).toBe('A-post')
    expect((await send(running.port, 'PATCH', '/b/9/')).text).toBe('B9')
  })

  it('answers 503 with Retry-After while a route is suspended, and 404 for a route never started', async () => {
    running = await startHttp(
      (r) => {
        r.from('http:/s')
          .routeId('s')
          .setBody(() => 'up')
        r.from('http:/later')
          .routeId('later')
          .autoStartup(false)
          .setBody(() => 'later')
      },
      { retryAfterSeconds: 7 },
    )
    await running.ctx.suspendRoute('s')
    const a = await send(running.port, 'GET', '/s')
    expectProblem(a, 503)
    expect(a.headers['retry-after']).toBe('7')
    await running.ctx.resumeRoute('s')
    expect((await send(running.port, 'GET', '/s')).text).toBe('up')
    expectProblem(await send(running.port, 'GET', '/later'), 404)
    await running.ctx.startRoute('later')
    expect((await send(running.port, 'GET', '/later')).text).toBe('later')
  })

  it('counts answers in dromedary_http_requests_total by route and status', async () => {
    running = await startHttp((r) => {
      r.from('http:/ok')
        .routeId('ok')
        .setBody(() => 'ok')
      r.from('http:/in?method=POST')
        .routeId('in')
        .setBody(() => 'in')
    })
    await send(running.port, 'GET', '/ok')
    await send(running.port, 'GET', '/ok')
    await send(running.port, 'POST', '/in', { headers: { 'content-type': 'application/json' }, body: '{' })
    const text = await running.ctx.metrics!.metrics()
    expect(text).toContain('dromedary_http_requests_total{route="ok",status="200"} 2')
    expect(text).toContain('dromedary_http_requests_total{route="in",status="400"} 1')
    expect(text).toContain('dromedary_http_requests_total{route="in",status="503"} 0')
    expect(text).toContain('dromedary_http_rejected_total{reason="shutting_down"} 0')
  })

  it('rejects an unknown method option with DROMEDARY_ERR_INVALID_OPTION', async () => {
    const err = await startHttp((r) => r.from('http:/x?method=FETCH').setBody(() => 'x')).catch(
      (e: unknown) => e,
    )
    expect(isDromedaryError(err, 'DROMEDARY_ERR_INVALID_OPTION')).toBe(true)
    expect(String((err as Error).message)).toContain('FETCH')
  })

  it('fails to start a route whose port is taken with DROMEDARY_ERR_HTTP_LISTEN_FAILED', async () => {
    running = await startHttp((r) => r.from('http:/a').setBody(() => 'a'))
    const http = httpComponent({ port: running.port })
    const ctx = createContext({ logger: false }).addComponent('http', http)
    await ctx.addRoutes((r) => r.from('http:/b').setBody(() => 'b'))
    const err = await ctx.start().catch((e: unknown) => e)
    await http.close?.({ forced: true })
    expect(isDromedaryError(err, 'DROMEDARY_ERR_ROUTE_START_FAILED')).toBe(true)
    expect(isDromedaryError((err as Error).cause, HttpErrorCodes.LISTEN_FAILED)).toBe(true)
    expect(String((err as Error).message)).toContain(`127.0.0.1:${running.port}`)
  })

  it('fails to start a second route on the same method and path', async () => {
    const http = httpComponent({ port: 0 })
    const ctx = createContext({ logger: false }).addComponent('http', http)
    await ctx.addRoutes((r) => {
      r.from('http:/dup/:a')
        .routeId('one')
        .setBody(() => 1)
      r.from('http:/dup/:b')
        .routeId('two')
        .setBody(() => 2)
    })
    const err = await ctx.start().catch((e: unknown) => e)
    // A failed start does not close components (see the report), so close the server here.
    await http.close?.({ forced: true })
    expect(isDromedaryError(err, 'DROMEDARY_ERR_ROUTE_START_FAILED')).toBe(true)
    expect(isDromedaryError((err as Error).cause, HttpErrorCodes.DUPLICATE_PATH)).toBe(true)
  })
})
