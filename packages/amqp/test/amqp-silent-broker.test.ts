/**
 * A broker that goes silent with the TCP connection open (a frozen node, a partition): a proxy the test
 * owns stops forwarding both ways and keeps both sockets open. Every wait of a stop must end — on the
 * shutdown's signal, or after `closeTimeoutMs` — and the socket is then destroyed, so the broker requeues
 * what was unacknowledged. The shared broker itself is never touched.
 */
import {
  createContext,
  type Component,
  type Consumer,
  type Endpoint,
  type IntegrationContext,
} from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { amqpComponent, type AmqpComponentOptions } from '../src/index.js'
import { captureLogger, deferred, useBroker, type Broker } from './support/broker.js'
import { startProxy, type TcpProxy } from './support/proxy.js'

const suite = useBroker()
let broker: Broker
const proxies: TcpProxy[] = []
beforeEach(() => {
  broker = suite.broker
})
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close()
})

/** The component, with a handle on the consumers it creates, so a test can call them directly. */
function observed(component: Component): { component: Component; consumers: Consumer[] } {
  const consumers: Consumer[] = []
  const wrapper: Component = {
    createEndpoint(uri, context): Endpoint {
      const endpoint = component.createEndpoint(uri, context)
      if (endpoint.createConsumer === undefined) return endpoint
      const create = endpoint.createConsumer.bind(endpoint)
      return {
        uri: endpoint.uri,
        createConsumer(host) {
          const consumer = create(host)
          consumers.push(consumer)
          return consumer
        },
      }
    },
    start: (context) => component.start?.(context),
    close: (options) => component.close?.(options),
  }
  return { component: wrapper, consumers }
}

interface Setup {
  ctx: IntegrationContext
  proxy: TcpProxy
  queue: string
  component: Component
  consumers: Consumer[]
  /** Resolves when the route holds a message (its exchange is in flight). */
  holding: Promise<void>
  /** Lets the held exchange finish. */
  release(): void
  logger: ReturnType<typeof captureLogger>
}

async function consumingThroughProxy(options: Partial<AmqpComponentOptions> = {}): Promise<Setup> {
  const proxy = await startProxy()
  proxies.push(proxy)
  const queue = await broker.queue('silent')
  await broker.publishNumbers(queue, 3)
  const logger = captureLogger()
  const ctx = createContext({ logger })
  suite.track(ctx)
  const { component, consumers } = observed(amqpComponent({ url: proxy.url, ...options }))
  ctx.addComponent('amqp', component)
  const holding = deferred()
  const gate = deferred()
  await ctx.addRoutes((r) =>
    r
      .from(`amqp:queue:${queue}?prefetch=1`)
      .routeId('worker')
      .process(async () => {
        holding.resolve()
        await gate.promise
      }),
  )
  await ctx.start()
  await holding.promise
  return { ctx, proxy, queue, component, consumers, holding: holding.promise, release: gate.resolve, logger }
}

const elapsed = async (work: void | Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await work
  return performance.now() - t0
}

describe('amqp consumer and component with a silent broker (their own abort signal)', () => {
  it('prepareShutdown stops waiting for cancel-ok when its signal aborts, and destroys the socket', async () => {
    const s = await consumingThroughProxy({ closeTimeoutMs: 60_000 })
    s.proxy.silence()
    const abort = new AbortController()
    setTimeout(() => abort.abort(new Error('deadline')), 200).unref()
    const ms = await elapsed(
      s.consumers[0]!.prepareShutdown!({
        forced: false,
        task: 'completeCurrentTaskOnly',
        signal: abort.signal,
      }),
    )

    expect(ms).toBeLessThan(1500)
    await vi.waitFor(() => expect(s.proxy.connections).toBe(0), { timeout: 5000 })
    expect(s.logger.lines.some((l) => l.level === 'warn' && l.msg.includes('basic.cancel'))).toBe(true)
  })

  it('a graceful stop stops waiting for close-ok when its signal aborts', async () => {
    const s = await consumingThroughProxy({ closeTimeoutMs: 60_000 })
    const consumer = s.consumers[0]!
    await consumer.prepareShutdown!({ forced: false, task: 'completeCurrentTaskOnly' })
    s.proxy.silence()
    s.release()
    const abort = new AbortController()
    setTimeout(() => abort.abort(new Error('deadline')), 200).unref()

    expect(await elapsed(consumer.stop({ forced: false, signal: abort.signal }))).toBeLessThan(1500)
    await vi.waitFor(() => expect(s.proxy.connections).toBe(0), { timeout: 5000 })
  })

  it('Component.close resolves once its signal aborts, though amqplib never settles its close', async () => {
    const s = await consumingThroughProxy({ closeTimeoutMs: 60_000 })
    await s.consumers[0]!.stop({ forced: true })
    s.proxy.silence()
    const abort = new AbortController()
    setTimeout(() => abort.abort(new Error('deadline')), 200).unref()

    expect(await elapsed(s.component.close!({ forced: false, signal: abort.signal }))).toBeLessThan(1500)
    await vi.waitFor(() => expect(s.proxy.connections).toBe(0), { timeout: 5000 })
  })

  it('without a signal, closeTimeoutMs bounds the wait for cancel-ok', async () => {
    const s = await consumingThroughProxy({ closeTimeoutMs: 300 })
    s.proxy.silence()
    const ms = await elapsed(
      s.consumers[0]!.prepareShutdown!({ forced: false, task: 'completeCurrentTaskOnly' }),
    )

    expect(ms).toBeGreaterThanOrEqual(290)
    expect(ms).toBeLessThan(1500)
  })
})

describe.each([
  ['the broker-proposed heartbeat', {}],
  ['heartbeats off', { heartbeatSeconds: 0 }],
])('a context whose broker goes silent mid-stream (%s)', (_, options) => {
  const NOW_BUDGET_MS = 5000

  it('stop({ timeoutMs: 2000 }) resolves within timeoutMs + nowBudgetMs + 1 s and loses nothing', async () => {
    const s = await consumingThroughProxy(options)
    s.proxy.silence()
    s.release()
    const ms = await elapsed(s.ctx.stop({ timeoutMs: 2000 }))

    expect(ms).toBeLessThan(2000 + NOW_BUDGET_MS + 1000)
    // The held message was processed but its ack never reached the broker: it is back in the queue.
    await vi.waitFor(async () => expect(await broker.messageCount(s.queue)).toBe(3), { timeout: 5000 })
  })

  it('forceStop() resolves within nowBudgetMs + 1 s and loses nothing', async () => {
    const s = await consumingThroughProxy(options)
    s.proxy.silence()
    const ms = await elapsed(s.ctx.forceStop())

    expect(ms).toBeLessThan(NOW_BUDGET_MS + 1000)
    await vi.waitFor(async () => expect(await broker.messageCount(s.queue)).toBe(3), { timeout: 5000 })
  })
})
