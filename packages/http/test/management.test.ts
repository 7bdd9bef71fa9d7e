import { register as globalRegistry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DefaultShutdownStrategy } from '@dromedary/core'
import { createManagementServer, type ManagementServer, type ManagementServerOptions } from '@dromedary/http'
import { deferred, nextEvent, send, startHttp, type Answer, type Running } from './support.js'

const TOKEN = 's3cret-token'

let running: Running
let mgmt: ManagementServer
let gate: ReturnType<typeof deferred<void>>
let arrived: ReturnType<typeof deferred<void>>

async function setup(options: ManagementServerOptions = { token: TOKEN }) {
  gate = deferred()
  arrived = deferred()
  running = await startHttp((r) => {
    r.from('http:/api')
      .routeId('api')
      .setBody(() => ({ ok: true }))
    r.from('http:/slow')
      .routeId('slow')
      .process(async () => {
        arrived.resolve()
        await gate.promise
      })
      .setBody(() => 'slow')
  })
  mgmt = await createManagementServer(running.ctx, { port: 0, ...options })
}

function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  return send(mgmt.address.port, method, path, {
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
}

beforeEach(async () => {
  await setup()
})

afterEach(async () => {
  gate.resolve()
  await running.ctx.stop({ timeoutMs: 5000 })
  await mgmt.close()
})

describe('management server', () => {
  it('serves the context metrics (core and HTTP families) plus Node defaults, never in the global registry', async () => {
    await send(running.port, 'GET', '/api')
    const a = await call('GET', '/metrics')
    expect(a.status).toBe(200)
    expect(a.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    for (const family of [
      'dromedary_exchanges_total',
      'dromedary_exchanges_inflight',
      'dromedary_route_up',
      'dromedary_shutdown_level',
      'dromedary_http_requests_total',
      'dromedary_http_rejected_total',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(a.text).toContain(`# TYPE ${family} `)
    expect(a.text).toContain('dromedary_http_requests_total{route="api",status="200"} 1')
    expect(globalRegistry.getMetricsAsArray()).toEqual([])
  })

  it('answers readiness 503 from NOTICE while liveness stays 200', async () => {
    expect((await call('GET', '/health/ready')).status).toBe(200)
    const slow = send(running.port, 'GET', '/slow')
    await arrived.promise
    const notice = nextEvent(running.ctx, 'shutdown-notice')
    const stopping = running.ctx.stop({ timeoutMs: 5000 })
    await notice
    const ready = await call('GET', '/health/ready')
    expect(ready.status).toBe(503)
    expect(ready.json).toMatchObject({ status: 'DOWN', ready: false, live: true, shutdownLevel: 'pending' })
    const live = await call('GET', '/health/live')
    expect(live.status).toBe(200)
    expect(live.json).toMatchObject({ status: 'UP', live: true })
    gate.resolve()
    expect((await slow).status).toBe(200)
    await stopping
    expect((await call('GET', '/health/live')).status).toBe(503)
  })

  it('lists routes and in-flight exchanges', async () => {
    const routes = await call('GET', '/routes')
    expect(routes.status).toBe(200)
    expect(routes.json).toEqual([
      expect.objectContaining({ id: 'api', from: 'http:/api', status: 'started' }),
      expect.objectContaining({ id: 'slow', status: 'started' }),
    ])
    const slow = send(running.port, 'GET', '/slow')
    await arrived.promise
    const inflight = await call('GET', '/inflight?sortByLongestDuration=true')
    expect(inflight.json).toMatchObject({ size: 1, exchanges: [{ fromRouteId: 'slow', atRouteId: 'slow' }] })
    expect((await call('GET', '/inflight?routeId=api')).json).toEqual({ size: 0, exchanges: [] })
    expect((await call('GET', '/inflight?limit=-1')).status).toBe(400)
    gate.resolve()
    await slow
  })

  it('refuses mutating endpoints without a valid bearer token with 401', async () => {
    const none = await call('POST', '/shutdown')
    expect(none.status).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer')
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect((await call('POST', '/routes/api/stop', { token: 'wrong' })).status).toBe(401)
    expect(
      (await call('PATCH', '/shutdown-strategy', { token: `${TOKEN}x`, body: { timeoutMs: 1 } })).status,
    ).toBe(401)
    expect(running.ctx.status).toBe('started')
    expect(running.ctx.routes().find((r) => r.id === 'api')?.status).toBe('started')
  })

  it('answers 403 on mutating endpoints when no token is configured, while reads still work', async () => {
    await mgmt.close()
    mgmt = await createManagementServer(running.ctx, { port: 0 })
    expect((await call('POST', '/routes/api/stop', { token: 'anything' })).status).toBe(403)
    expect((await call('POST', '/shutdown')).status).toBe(403)
    expect((await call('GET', '/routes')).status).toBe(200)
    expect(running.ctx.status).toBe('started')
  })

  it('suspends, resumes, stops and starts a route with the token', async () => {
    const suspended = await call('POST', '/routes/api/suspend', { token: TOKEN })
    expect(suspended.status).toBe(200)
    expect(suspended.json).toMatchObject({ action: 'suspend', route: { id: 'api', status: 'suspended' } })
    expect((await send(running.port, 'GET', '/api')).status).toBe(503)
    expect((await call('POST', '/routes/api/resume', { token: TOKEN })).json).toMatchObject({
      route: { status: 'started' },
    })
    expect((await send(running.port, 'GET', '/api')).status).toBe(200)
    const stopped = await call('POST', '/routes/api/stop', { token: TOKEN, body: { timeoutMs: 1000 } })
    expect(stopped.json).toMatchObject({ action: 'stop', stopped: true, route: { status: 'stopped' } })
    expect((await send(running.port, 'GET', '/api')).status).toBe(503)
    expect((await call('POST', '/routes/api/start', { token: TOKEN })).json).toMatchObject({
      route: { status: 'started' },
    })
    expect((await send(running.port, 'GET', '/api')).status).toBe(200)
    expect((await call('POST', '/routes/nope/start', { token: TOKEN })).status).toBe(404)
    expect((await call('POST', '/routes/api/explode', { token: TOKEN })).status).toBe(404)
  })

  it("PATCH /shutdown-strategy changes the running strategy's timeout", async () => {
    const a = await call('PATCH', '/shutdown-strategy', {
      token: TOKEN,
      body: { timeoutMs: 1234, logInflightExchangesOnTimeout: false },
    })
    expect(a.status).toBe(200)
    expect(a.json).toMatchObject({
      type: 'DefaultShutdownStrategy',
      timeoutMs: 1234,
      logInflightExchangesOnTimeout: false,
    })
    const strategy = running.ctx.shutdownStrategy as DefaultShutdownStrategy
    expect(strategy.timeoutMs).toBe(1234)
    expect(strategy.logInflightExchangesOnTimeout).toBe(false)
    expect((await call('GET', '/shutdown-strategy')).json).toMatchObject({ timeoutMs: 1234 })
    expect(
      (await call('PATCH', '/shutdown-strategy', { token: TOKEN, body: { timeoutMs: -5 } })).status,
    ).toBe(400)
    expect((await call('PATCH', '/shutdown-strategy', { token: TOKEN, body: { timeout: 5 } })).status).toBe(
      400,
    )
    expect(strategy.timeoutMs).toBe(1234)
  })

  it('POST /shutdown stops the context gracefully with the given timeout, and with force escalates', async () => {
    const slow = send(running.port, 'GET', '/slow')
    await arrived.promise
    const draining = nextEvent(running.ctx, 'shutdown-progress')
    const a = await call('POST', '/shutdown', { token: TOKEN, body: { timeoutMs: 30_000 } })
    expect(a.status).toBe(202)
    expect(a.json).toEqual({ accepted: true, force: false, timeoutMs: 30_000 })
    await draining
    expect((await call('POST', '/shutdown', { token: TOKEN, body: { force: true } })).status).toBe(202)
    const report = await running.ctx.whenStopped()
    expect(report.forced).toBe(true)
    expect((await slow).status).toBe(503)
  })
})
