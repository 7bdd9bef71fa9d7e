import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest'
import {
  brokerReachable,
  ensureBuilt,
  freePort,
  shutdownLines,
  startExample,
  type ExampleProcess,
} from '../../../test/support/example-process.js'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const ROUTES = ['ship', 'charge', 'audit', 'orders', 'api', 'status']
const ORDER = { customer: 'ada', items: [{ sku: 'camel-plush', quantity: 2 }] }

beforeAll(() => ensureBuilt('orders'), 120_000)

// One process per transport; the tests of a block run in order against it, the last one stops it.
function smoke(transport: 'in-memory' | 'RabbitMQ', env: Record<string, string | undefined>): void {
  describe(`examples/orders (${transport} queue)`, () => {
    let app: ExampleProcess | undefined
    let api = ''
    let management = ''
    let orderId = ''
    let skipReason: string | undefined

    const running = (t: TestContext): ExampleProcess => {
      if (skipReason !== undefined) {
        console.warn(skipReason)
        t.skip()
      }
      if (app === undefined) throw new Error('the orders app did not start')
      return app
    }

    beforeAll(async () => {
      if (transport === 'RabbitMQ' && !(await brokerReachable(AMQP_URL))) {
        const why = `RabbitMQ is not reachable at ${AMQP_URL}`
        if (process.env.CI === 'true')
          throw new Error(`${why}; CI=true requires it for the orders smoke test`)
        skipReason = `Skipping the orders smoke test on RabbitMQ: ${why}`
        return
      }
      const [port, managementPort] = [await freePort(), await freePort()]
      api = `http://127.0.0.1:${port}`
      management = `http://127.0.0.1:${managementPort}`
      app = startExample('orders', {
        ...env,
        PORT: String(port),
        MANAGEMENT_PORT: String(managementPort),
        PAYMENT_DELAY_MS: '50',
      })
      await app.waitForLine((l) => l.msg.startsWith('Orders app ready'))
    }, 15_000)

    afterAll(() => app?.kill())

    it('answers POST /orders with 202 and the new order id', async (t) => {
      running(t)
      const res = await fetch(`${api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ORDER),
      })
      const body = (await res.json()) as { id?: unknown }
      expect(res.status).toBe(202)
      expect(body.id).toMatch(/^ord-/)
      orderId = String(body.id)
    })

    it('rejects an invalid order with 400 application/problem+json', async (t) => {
      running(t)
      const res = await fetch(`${api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer: 'ada', items: [] }),
      })
      expect(res.status).toBe(400)
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(await res.json()).toMatchObject({ status: 400, detail: '"items" must be a non-empty array' })
    })

    it('ships the accepted order and reports it by id', async (t) => {
      const p = running(t)
      await p.waitForLine((l) => l.msg.startsWith('Shipped order') && l.msg.includes(orderId))
      const res = await fetch(`${api}/orders/${orderId}`)
      expect([res.status, await res.json()]).toEqual([200, { id: orderId, status: 'shipped' }])
    })

    it('serves dromedary_exchanges_total series on the management port', async (t) => {
      running(t)
      const res = await fetch(`${management}/metrics`)
      const text = await res.text()
      expect(res.status).toBe(200)
      expect(text).toMatch(
        /^dromedary_exchanges_total\{[^}]*route="api"[^}]*outcome="completed"[^}]*\} [1-9]/m,
      )
    })

    it('shuts down gracefully on SIGTERM: exit code 0 and the SPEC shutdown lines', async (t) => {
      const p = running(t)
      p.child.kill('SIGTERM')
      const exit = await p.exited
      expect(exit, p.output()).toEqual({ code: 0, signal: null })
      const { summary, stopped } = shutdownLines(p, ROUTES)
      expect(summary?.msg, p.output()).toMatch(/^Graceful shutdown of 6 routes completed in/)
      expect(stopped).toEqual(ROUTES)
    })
  })
}

smoke('in-memory', { AMQP_URL: undefined })
smoke('RabbitMQ', { AMQP_URL })
