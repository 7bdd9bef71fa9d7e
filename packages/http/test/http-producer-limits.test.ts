import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createContext, isDromedaryError, type Exchange, type IntegrationContext } from '@dromedary/core'
import { httpComponent, HttpErrorCodes, type HttpComponentOptions } from '@dromedary/http'
import { deferred, startBackend, startOutbound, type Backend } from './support.js'

const MiB = 1024 * 1024

let backend: Backend
let port: number
let seen: IncomingMessage[]
let streaming: ReturnType<typeof deferred<ServerResponse>>
let ctx: IntegrationContext

/** The backend: `/sized?bytes=N` answers N bytes with a Content-Length, `/stream` sends chunks without one forever. */
function respond(req: IncomingMessage, res: ServerResponse): void {
  seen.push(req)
  const url = new URL(req.url ?? '/', 'http://x')
  if (url.pathname === '/sized') {
    const body = Buffer.alloc(Number(url.searchParams.get('bytes')), 0x61)
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      .end(body)
  } else if (url.pathname === '/stream') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    const chunk = Buffer.alloc(64 * 1024, 0x62)
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
    }
    res.on('drain', pump)
    pump()
    streaming.resolve(res)
  } else if (url.pathname === '/stall') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 })
    res.write('{"partial": ')
    streaming.resolve(res)
  } else if (url.pathname === '/missing') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('no')
  } else res.writeHead(200, { 'content-type': 'text/plain' }).end(req.headers.authorization ?? 'none')
}

beforeEach(async () => {
  seen = []
  streaming = deferred<ServerResponse>()
  backend = await startBackend(respond)
  port = backend.port
})

afterEach(async () => {
  await ctx.forceStop()
  await backend.close()
})

async function start(options: HttpComponentOptions = {}) {
  ctx = await startOutbound(options)
}

describe('outbound response size', () => {
  it('reads a body of exactly maxResponseBytes, and fails one byte more with DROMEDARY_ERR_HTTP_RESPONSE_TOO_LARGE', async () => {
    await start({ maxResponseBytes: 1000 })
    const ok = await ctx.producer().send(`http://127.0.0.1:${port}/sized?bytes=1000`, null)
    expect(ok.exception).toBeUndefined()
    expect((ok.message.body as Buffer).length).toBe(1000)
    const big = await ctx.producer().send(`http://127.0.0.1:${port}/sized?bytes=1001`, null)
    expect(isDromedaryError(big.exception, HttpErrorCodes.RESPONSE_TOO_LARGE)).toBe(true)
    expect((big.exception as Error).message).toContain('1000 bytes')
  })

  it('caps at 10 MiB by default, and stops reading a body without Content-Length as soon as it is over', async () => {
    await start()
    const ex = await ctx.producer().send(`http://127.0.0.1:${port}/stream`, null)
    expect(isDromedaryError(ex.exception, HttpErrorCodes.RESPONSE_TOO_LARGE)).toBe(true)
    expect((ex.exception as Error).message).toContain(`${10 * MiB} bytes`)
    // The endless response is abandoned: its connection is closed rather than read on.
    await backend.allClosed()
  })

  it('takes maxResponseBytes from the URI over the component option, and keeps it out of the URL', async () => {
    await start({ maxResponseBytes: 10 })
    const ex = await ctx
      .producer()
      .send(`http://127.0.0.1:${port}/sized?bytes=500&maxResponseBytes=600`, null)
    expect(ex.exception).toBeUndefined()
    expect(seen[0]!.url).toBe('/sized?bytes=500')
  })
})

describe('outbound URLs in errors', () => {
  it('redacts credentials and query values in error messages', async () => {
    await start()
    const refused = await ctx.producer().send('http://bob:s3cret@127.0.0.1:1/x?token=abc123&page=2', null)
    expect(isDromedaryError(refused.exception, HttpErrorCodes.REQUEST_FAILED)).toBe(true)
    const message = (refused.exception as Error).message
    expect(message).toContain('http://***:***@127.0.0.1:1/x?token=***&page=***')
    expect(message).not.toMatch(/s3cret|abc123|bob/)

    const failed = await ctx.producer().send(`http://127.0.0.1:${port}/missing?api_key=k3y`, null)
    expect(isDromedaryError(failed.exception, HttpErrorCodes.OPERATION_FAILED)).toBe(true)
    expect((failed.exception as Error).message).not.toContain('k3y')
    expect((failed.exception as Error).message).toContain('api_key=***')

    const big = await ctx
      .producer()
      .send(`http://u:p4ss@127.0.0.1:${port}/sized?bytes=20000000&sig=zzz`, null)
    expect(isDromedaryError(big.exception, HttpErrorCodes.RESPONSE_TOO_LARGE)).toBe(true)
    expect((big.exception as Error).message).not.toMatch(/p4ss|zzz/)
  })

  it('redacts the URL of an invalid outbound URI in the error', async () => {
    await start()
    expect(() => ctx.addRoutes((r) => r.from('direct:x').to('http://u:pw@[bad/x?token=t0k'))).toThrow(
      expect.objectContaining({ code: HttpErrorCodes.INVALID_URL }),
    )
    let message = ''
    try {
      await ctx.addRoutes((r) => r.from('direct:y').to('http://u:pw@[bad/x?token=t0k'))
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).not.toMatch(/pw|t0k/)
  })

  it('sends URL credentials as Authorization: Basic (fetch refuses them in the URL)', async () => {
    await start()
    const body = await ctx.producer().request(`http://al%40ice:p%3Ass@127.0.0.1:${port}/echo-auth`, null)
    expect(body).toBe(`Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`)
  })
})

describe('outbound abort', () => {
  it('aborts a response whose body is still arriving when the exchange is aborted', async () => {
    ctx = createContext({ logger: false }).addComponent('http', httpComponent({ port: 0 }))
    let failed: Exchange | undefined
    await ctx.addRoutes((r) => r.from('direct:call').routeId('caller').to(`http://127.0.0.1:${port}/stall`))
    await ctx.start()
    const sent = ctx
      .producer()
      .send('direct:call', null)
      .then((ex) => (failed = ex))
    await streaming.promise
    const report = await ctx.forceStop()
    await sent
    await backend.allClosed()
    expect(report.routes.find((r) => r.id === 'caller')?.aborted).toBe(1)
    expect(isDromedaryError(failed?.exception, HttpErrorCodes.REQUEST_FAILED)).toBe(true)
  })
})
