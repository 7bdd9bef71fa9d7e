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

// Issue 7: with RabbitMQ, an order accepted with 202 is shipped even when the instance that accepted it is
// restarted under load. In this file (not its own) because both blocks consume the same `orders` queue.
describe('examples/orders (RabbitMQ queue): restart under load', () => {
  const apps: ExampleProcess[] = []
  afterAll(() => {
    for (const a of apps) a.kill()
  })

  it('loses no accepted order and ships none twice across a graceful restart', async () => {
    if (!(await brokerReachable(AMQP_URL))) {
      if (process.env.CI === 'true') throw new Error(`RabbitMQ is not reachable at ${AMQP_URL}`)
      console.warn(`Skipping the orders restart test: RabbitMQ is not reachable at ${AMQP_URL}`)
      return
    }
    const [port, managementPort] = [await freePort(), await freePort()]
    const api = `http://127.0.0.1:${port}/orders`
    const start = async (): Promise<ExampleProcess> => {
      const app = startExample('orders', {
        AMQP_URL,
        PORT: String(port),
        MANAGEMENT_PORT: String(managementPort),
        PAYMENT_DELAY_MS: '100',
      })
      apps.push(app)
      await app.waitForLine((l) => l.msg.startsWith('Orders app ready'))
      return app
    }
    const accepted = new Set<string>()
    const failures: string[] = []
    const thresholds = new Map<number, () => void>()
    const acceptedReach = (k: number) => new Promise<void>((resolve) => thresholds.set(k, resolve))
    const accept = (id: string) => {
      accepted.add(id)
      thresholds.get(accepted.size)?.()
    }
    // The test plays the load balancer: from SIGTERM until the new instance is ready nothing new is routed
    // (Kubernetes takes a terminating pod out of its Service). Requests already sent must be answered, and
    // like the load script the client retries on 503 (draining) and on refused connections (restarting).
    let routable: Promise<void> = Promise.resolve()
    const order = async (n: number): Promise<void> => {
      const body = JSON.stringify({ customer: `load-${n}`, items: [{ sku: 'camel-plush', quantity: 1 }] })
      for (let attempt = 0; attempt < 200; attempt++) {
        await routable
        try {
          const res = await fetch(api, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          })
          const reply = (await res.json()) as { id?: string }
          if (res.status === 202 && reply.id !== undefined) return accept(reply.id)
          if (res.status !== 503) return void failures.push(`order ${n}: ${res.status}`)
        } catch (err) {
          const code = (err as { cause?: { code?: string } }).cause?.code
          if (code !== 'ECONNREFUSED') return void failures.push(`order ${n}: ${code ?? String(err)}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      failures.push(`order ${n}: gave up`)
    }

    const first = await start()
    const halfway = acceptedReach(100)
    const enough = acceptedReach(200)
    let n = 0
    const sending: Promise<void>[] = []
    const load = setInterval(() => sending.push(order(n++)), 10)
    // Restart once 100 orders are in: SIGTERM, a graceful exit, a new instance on the same ports and queue.
    await halfway
    let backInService!: () => void
    routable = new Promise((resolve) => (backInService = resolve))
    first.child.kill('SIGTERM')
    expect(await first.exited, first.output()).toEqual({ code: 0, signal: null })
    const second = await start()
    backInService()
    await enough
    clearInterval(load)
    await Promise.all(sending)
    expect(failures).toEqual([])

    const shipped = (): string[] =>
      apps.flatMap((a) =>
        a.lines.flatMap((l) =>
          l.msg.startsWith('Shipped order') ? [/ord-[a-z0-9]+-\d+/.exec(l.msg)?.[0] ?? ''] : [],
        ),
      )
    await second.waitForLine(() => [...accepted].every((id) => shipped().includes(id)), 30_000)
    second.child.kill('SIGTERM')
    expect(await second.exited, second.output()).toEqual({ code: 0, signal: null })
    const ids = shipped()
    expect(ids.length).toBe(new Set(ids).size)
    expect([...accepted].filter((id) => !ids.includes(id))).toEqual([])
    expect(first.lines.filter((l) => l.msg.startsWith('Shipped order')).length).toBeGreaterThan(0)
  }, 60_000)
})
