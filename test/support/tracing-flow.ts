/**
 * The traced flow of the tracing suites, across two contexts as if two processes:
 * client (raw socket, its own `traceparent`) → context A: `http:/orders` (intake) → `seda:orders` (queue) →
 * `asyncTask` on a worker group → `direct:publish` (publish) → `amqp:queue:Q` → context B: `amqp:queue:Q`
 * (deliver) → `http://127.0.0.1:PORT/sink` (a plain node:http server recording the `traceparent` it got).
 * Real RabbitMQ, real sockets. Imported dynamically by the suite with auto-instrumentations, after they are
 * enabled, so amqplib and fastify load patched.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { connect as connectTcp, type AddressInfo } from 'node:net'
import { amqplib } from './amqplib.js'
import { createContext, type IntegrationContext } from '@dromedary/core'
import { amqpComponent } from '@dromedary/amqp'
import { httpComponent } from '@dromedary/http'

export const BROKER_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

export const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
export const CLIENT_SPAN_ID = '00f067aa0ba902b7'
export const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`

export interface Flow {
  readonly a: IntegrationContext
  readonly b: IntegrationContext
  readonly queue: string
  readonly sinkUrl: string
  /** Sends one order as a client that sets `traceparent` itself; resolves with the response status. */
  order(body: unknown): Promise<number>
  /** Resolves with the headers of the next request the sink receives. */
  nextSinkRequest(): Promise<IncomingHttpHeaders>
  /** Holds the sink's answers until `release` (for the forced-shutdown test). */
  holdSink(): void
  close(): Promise<void>
}

/** Fails (never skips) with the reason when RabbitMQ is unreachable. */
export async function checkBroker(): Promise<void> {
  try {
    const c = await amqplib.connect(BROKER_URL)
    await c.close()
  } catch (err) {
    throw new Error(
      `RabbitMQ is not reachable at 127.0.0.1:5672 (${err instanceof Error ? err.message : String(err)}); the tracing suite needs a real broker`,
    )
  }
}

export async function startFlow(): Promise<Flow> {
  const queue = `tracing-${randomBytes(4).toString('hex')}`
  let holding = false
  const held: Array<() => void> = []
  const sinkWaiters: Array<(h: IncomingHttpHeaders) => void> = []
  const sink = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      sinkWaiters.shift()?.(req.headers)
      const answer = () => {
        res.setHeader('content-type', 'application/json')
        res.end('{"delivered":true}')
      }
      if (holding) held.push(answer)
      else answer()
    })
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/sink`

  const b = createContext({ name: 'deliverer', logger: false })
  b.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
  b.addComponent('http', httpComponent({ port: 0 }))
  await b.addRoutes((r) => r.from(`amqp:queue:${queue}`).routeId('deliver').to(`${sinkUrl}?httpMethod=POST`))
  await b.start()

  const http = httpComponent({ port: 0 })
  const a = createContext({ name: 'intake', logger: false, workerGroups: { pool: { workers: 1 } } })
  a.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
  a.addComponent('http', http)
  await a.addRoutes((r) => {
    r.from('http:/orders?method=POST').routeId('intake').to('seda:orders').setBody({ accepted: true })
    r.from('seda:orders').routeId('queue').asyncTask('direct:publish', { group: 'pool' })
    r.from('direct:publish').routeId('publish').to(`amqp:queue:${queue}`)
  })
  await a.start()
  const port = http.address!.port

  return {
    a,
    b,
    queue,
    sinkUrl,
    order: (body) => rawPost(port, '/orders', JSON.stringify(body)),
    nextSinkRequest: () => new Promise((resolve) => sinkWaiters.push(resolve)),
    holdSink: () => {
      holding = true
    },
    async close() {
      for (const ctx of [a, b]) if (ctx.status !== 'stopped') await ctx.forceStop()
      for (const answer of held.splice(0)) answer()
      sink.closeAllConnections()
      await new Promise((resolve) => sink.close(resolve))
      const c = await amqplib.connect(BROKER_URL)
      const ch = await c.createChannel()
      await ch.deleteQueue(queue)
      await c.close()
    },
  }
}

/**
 * A POST written on a raw socket: no HTTP client library, so no auto-instrumentation adds a span or replaces
 * the client's `traceparent`.
 */
function rawPost(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (c: string) => (data += c))
    socket.on('error', reject)
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)))
    socket.write(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `traceparent: ${CLIENT_TRACEPARENT}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    )
  })
}
