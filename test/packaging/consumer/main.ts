// An application written against the packed packages, as a user would write it. The packaging test copies this
// file into a fresh npm project outside the workspace, compiles it with strict TypeScript (NodeNext) against the
// installed tarballs and runs it; it prints one JSON line that the test checks. A package that wants its own
// part in this run adds it here (and a check in test/integration/packaging.test.ts).
//
// Environment: AMQP_URL (the broker), QUEUE (a queue name of this run's own).
import { createContext, isDromedaryError, type Exchange, type ShutdownReport } from '@dromedary/core'
import { amqpComponent } from '@dromedary/amqp'
import { createManagementServer, httpComponent } from '@dromedary/http'

interface Order {
  readonly id: string
  readonly quantity: number
}

const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const queue = process.env.QUEUE ?? `packaging-${process.pid}`

/** A promise with its resolve function, for gating a route step from here. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

const entered = gate()
const release = gate()
const http = httpComponent({ port: 0, host: '127.0.0.1' })
const ctx = createContext({ name: 'packaged', logger: false })
ctx.addComponent('http', http)
ctx.addComponent('amqp', amqpComponent({ url: amqpUrl, connectionName: 'dromedary-packaging-test' }))

await ctx.addRoutes((r) => {
  // HTTP in, handed to seda; the caller gets 202 at once.
  r.from<unknown>('http:/orders?method=POST')
    .routeId('api')
    .transform((ex): Order => {
      const body = ex.message.body as { quantity?: unknown } | undefined
      return { id: 'o-1', quantity: typeof body?.quantity === 'number' ? body.quantity : 0 }
    })
    .to('seda:orders')
    .setHeader('http.status', 202)
    .setBody((ex) => ({ accepted: ex.message.body.id }))
  // seda to RabbitMQ (publisher confirms), RabbitMQ to a mock.
  r.from<Order>('seda:orders').routeId('publish').to(`amqp:queue:${queue}`)
  r.from<Order>(`amqp:queue:${queue}?durable=false&autoDelete=true&contentType=json`)
    .routeId('ship')
    .startupOrder(1)
    .to('mock:shipped')
  // A request that is still in flight when the graceful stop begins.
  r.from('http:/slow?method=GET')
    .routeId('slow')
    .process(async (ex: Exchange) => {
      entered.open()
      await release.promise
      ex.message.body = 'finished during the stop'
    })
})

await ctx.start()
const mgmt = await createManagementServer(ctx, { port: 0, defaultMetrics: false })
const api = `http://127.0.0.1:${http.address?.port ?? 0}`

const shipped = ctx.mock('shipped').expectedBodiesReceived({ id: 'o-1', quantity: 2 })
const posted = await fetch(`${api}/orders`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ quantity: 2 }),
})
const postedBody: unknown = await posted.json()
await shipped.assertIsSatisfied({ timeoutMs: 10_000 })

const metricsText = await (await fetch(`http://127.0.0.1:${mgmt.address.port}/metrics`)).text()
const ready = (await fetch(`http://127.0.0.1:${mgmt.address.port}/health/ready`)).status

const slow = fetch(`${api}/slow`).then(async (res) => ({ status: res.status, body: await res.text() }))
await entered.promise
const stopping: Promise<ShutdownReport> = ctx.stop({ timeoutMs: 10_000 })
release.open()
const slowAnswer = await slow
const report = await stopping
await mgmt.close()

// After the stop, sends are refused with a coded error.
let afterStop = 'accepted'
try {
  await ctx.producer().request('seda:orders', { id: 'late', quantity: 1 })
} catch (err) {
  afterStop = isDromedaryError(err) ? err.code : String(err)
}

console.log(
  JSON.stringify({
    posted: { status: posted.status, body: postedBody },
    shipped: shipped.receivedExchanges.map((ex) => ex.message.body),
    ready,
    metrics: metricsText.split('\n').filter((l) => l.startsWith('dromedary_exchanges_total{')),
    slow: slowAnswer,
    report: { graceful: report.graceful, forced: report.forced, routes: report.routes.map((r) => r.id) },
    status: ctx.status,
    afterStop,
  }),
)
