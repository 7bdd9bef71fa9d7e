import { afterEach, describe, expect, it } from 'vitest'
import { createContext, type IntegrationContext } from '@dromedary/core'
import { createManagementServer, type ManagementServer, type ManagementServerOptions } from '@dromedary/http'
import type { LifecycleMessage, SnapshotMessage } from '../../src/management/console-wire.js'
import { send } from '../support.js'
import { openSse } from './sse-client.js'

const HOSTILE_ID = '<script>alert(1)</script>\n\nevent: lifecycle\ndata: {"forged":true}'

let ctx: IntegrationContext
let mgmt: ManagementServer

async function setup(options: ManagementServerOptions = {}): Promise<void> {
  ctx = createContext({ logger: false })
  await ctx.addRoutes((r) => {
    r.from('direct:a').routeId('a').to('log:a')
    r.from('direct:hostile').routeId(HOSTILE_ID).to('log:h')
  })
  mgmt = await createManagementServer(ctx, { port: 0, token: 't', defaultMetrics: false, ...options })
  await ctx.start()
}

afterEach(async () => {
  await ctx.stop({ timeoutMs: 1000 })
  await mgmt.close()
})

const get = (path: string, method = 'GET') => send(mgmt.address.port, method, path)

describe('console on the management server', () => {
  it('serves the page with a strict Content-Security-Policy, a same-origin module script and nothing inline', async () => {
    await setup()
    const page = await get('/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe')
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    const scripts = [...page.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])
    expect(scripts).toEqual(['<script type="module" src="console/main.js">'])
    expect(page.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=|javascript:|https?:\/\//)
  })

  it('serves the stylesheet and icon, and no file outside the browser build', async () => {
    await setup()
    const css = await get('/console/console.css')
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8'])
    expect(css.headers['content-security-policy']).toContain("script-src 'self'")
    expect((await get('/console/icon.svg')).headers['content-type']).toBe('image/svg+xml')
    for (const path of [
      '/console/..%2Fpackage.json',
      '/console/%2E%2E%2F%2E%2E%2Fpackage.json',
      '/console/main.d.ts',
      '/console/.main.js',
      '/console/MAIN.JS',
      '/console/tsconfig.tsbuildinfo',
    ])
      expect((await get(path)).status, path).toBe(404)
  })

  it('streams text/event-stream with a retry delay, uncached, with route ids that hold markup and line breaks intact', async () => {
    await setup()
    const sse = await openSse(mgmt.address.port)
    expect(sse.status).toBe(200)
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(sse.headers['cache-control']).toBe('no-store')
    const snapshot = await sse.watcher.nextJson<SnapshotMessage>('snapshot')
    expect(sse.watcher.retry).toBe(2000)
    expect(snapshot.routes.map((r) => r.id)).toEqual(['a', HOSTILE_ID])
    expect(sse.watcher.json<Record<string, unknown>>('lifecycle').some((m) => 'forged' in m)).toBe(false)
    sse.close()
  })

  it('ends open streams cleanly when the management server closes, without holding the close', async () => {
    await setup()
    const sse = await openSse(mgmt.address.port)
    await sse.watcher.nextJson('snapshot')
    await mgmt.close()
    expect(await sse.ended).toBe('end')
  })

  it('ends the stream cleanly after context-stopped, the last message a snapshot of the stopped routes', async () => {
    await setup()
    const sse = await openSse(mgmt.address.port)
    await sse.watcher.nextJson('snapshot')
    await ctx.stop()
    expect(await sse.ended).toBe('end')
    const lifecycle = sse.watcher.json<LifecycleMessage>('lifecycle')
    expect(lifecycle[lifecycle.length - 1]!.event.type).toBe('context-stopped')
    const last = sse.watcher.events[sse.watcher.events.length - 1]!
    expect(last.event).toBe('snapshot')
    expect((JSON.parse(last.data) as SnapshotMessage).routes.map((r) => r.status)).toEqual([
      'stopped',
      'stopped',
    ])
  })

  it('answers HEAD /events with the headers only, holding no stream open', async () => {
    await setup()
    const head = await get('/events', 'HEAD')
    expect([head.status, head.headers['content-type'], head.text]).toEqual([
      200,
      'text/event-stream; charset=utf-8',
      '',
    ])
  })

  it('serves neither page nor stream with console: false', async () => {
    await setup({ console: false })
    expect((await get('/')).status).toBe(404)
    expect((await get('/events')).status).toBe(404)
    expect((await get('/metrics')).status).toBe(200)
  })
})
