import fc from 'fast-check'
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

  it('refuses bad POST /shutdown bodies with 400 problem+json naming the field, and does not stop', async () => {
    const bad: Array<[unknown, string]> = [
      [{ timeoutMs: 1e12 }, 'timeoutMs'],
      [{ timeoutMs: 2 ** 31 }, 'timeoutMs'],
      [{ timeoutMs: -1 }, 'timeoutMs'],
      [{ timeoutMs: 1.5 }, 'timeoutMs'],
      [{ timeoutMs: 'soon' }, 'timeoutMs'],
      [{ timeoutMs: '5000' }, 'timeoutMs'],
      [{ timeoutMs: null }, 'timeoutMs'],
      [{ force: 'yes' }, 'force'],
      [{ force: 1 }, 'force'],
      [{ timeoutMs: 1000, when: 'now' }, 'when'],
      [[1000], 'JSON object'],
    ]
    for (const [body, field] of bad) {
      const a = await call('POST', '/shutdown', { token: TOKEN, body })
      expect(a.status, JSON.stringify(body)).toBe(400)
      expect(a.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect((a.json as { detail: string }).detail).toContain(field)
    }
    expect(running.ctx.status).toBe('started')
    expect(running.ctx.shutdownLevel).toBe('running')
  })

  it('refuses bad PATCH /shutdown-strategy bodies with 400 naming the field, and changes nothing (property)', async () => {
    const strategy = running.ctx.shutdownStrategy as DefaultShutdownStrategy
    const before = (await call('GET', '/shutdown-strategy')).json
    const badDuration = fc.oneof(
      fc.constantFrom(1e12, 2 ** 31, 2 ** 32, -1, 1.5, 'soon', '100', null, true, [], {}),
      fc.double({ noInteger: true }),
      fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ max: -1 }),
    )
    const badField = fc.oneof(
      badDuration.map((v) => ['timeoutMs', v] as const),
      fc.oneof(badDuration, fc.integer({ min: 0, max: 9 })).map((v) => ['progressIntervalMs', v] as const),
      fc.constantFrom('yes', 0, 1, 'TRUE', null).map((v) => ['shutdownNowOnTimeout', v] as const),
      fc.constantFrom('timeout', 'nowBudgetMs', '__proto__', 'constructor').map((n) => [n, 1] as const),
    )
    // Good values alongside the bad one must not be applied either.
    const good = fc.record(
      { timeoutMs: fc.integer({ min: 0, max: 2 ** 31 - 1 }), suppressLoggingOnTimeout: fc.boolean() },
      { requiredKeys: [] },
    )
    await fc.assert(
      fc.asyncProperty(badField, good, async ([name, value], others) => {
        const body = JSON.parse(
          `{${[...Object.entries(others), [name, value]].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
        ) as Record<string, unknown>
        const a = await call('PATCH', '/shutdown-strategy', { token: TOKEN, body })
        expect(a.status, JSON.stringify(body)).toBe(400)
        // A `__proto__` key is refused by the JSON parser itself, before any field is looked at.
        if (name !== '__proto__') expect((a.json as { detail: string }).detail).toContain(`"${name}"`)
        expect((await call('GET', '/shutdown-strategy')).json).toEqual(before)
      }),
      { numRuns: 60 },
    )
    expect(strategy.timeoutMs).toBe((before as { timeoutMs: number }).timeoutMs)
  })

  it('accepts the extremes of a duration: 0 and 2147483647 ms, and progressIntervalMs 10', async () => {
    const a = await call('PATCH', '/shutdown-strategy', {
      token: TOKEN,
      body: { timeoutMs: 2_147_483_647, progressIntervalMs: 10 },
    })
    expect(a.status).toBe(200)
    expect(a.json).toMatchObject({ timeoutMs: 2_147_483_647, progressIntervalMs: 10 })
    expect((await call('PATCH', '/shutdown-strategy', { token: TOKEN, body: { timeoutMs: 0 } })).status).toBe(
      200,
    )
  })

  it('takes numbers and booleans written as strings only from a form body', async () => {
    const form = (body: string) =>
      send(mgmt.address.port, 'PATCH', '/shutdown-strategy', {
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      })
    const ok = await form('timeoutMs=4321&shutdownNowOnTimeout=false')
    expect(ok.status).toBe(200)
    expect(ok.json).toMatchObject({ timeoutMs: 4321, shutdownNowOnTimeout: false })
    expect((await form('timeoutMs=1e12')).status).toBe(400)
    expect((await form('timeoutMs=soon')).status).toBe(400)
  })

  it('refuses a bad POST /routes/:id/stop body with 400 and leaves the route running', async () => {
    const a = await call('POST', '/routes/api/stop', { token: TOKEN, body: { timeoutMs: 1e12 } })
    expect(a.status).toBe(400)
    expect((a.json as { detail: string }).detail).toContain('"timeoutMs"')
    expect(running.ctx.routes().find((r) => r.id === 'api')?.status).toBe('started')
  })
})
