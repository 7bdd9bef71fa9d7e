/**
 * A server that goes silent with the socket open (a TCP proxy that stops forwarding) must not hold a shutdown:
 * once the deadline signal aborts, the consumer's prepareShutdown/stop and the component's close return at once,
 * and the unfinished message is redelivered after ack_wait (nothing acknowledged is lost). The signal here is
 * our own AbortController, as the context passes it to participants.
 */
import type { ComponentContext, ConsumerHost, Exchange } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseUri } from '../../core/src/uri/uri.js'
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.js'
import { natsComponent } from '../src/index.js'
import { useNats, type NatsOracle } from './support/server.js'

const suite = useNats()
let nats: NatsOracle
let proxy: TcpProxy | undefined
beforeEach(() => {
  nats = suite.nats
})
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

const silent = { debug() {}, info() {}, warn() {}, error() {} }

function fakeHost(onStart: () => void): ConsumerHost {
  return {
    routeId: 'r',
    endpointUri: 'nats:…',
    logger: silent,
    shutdownRunningTask: 'completeCurrentTaskOnly',
    shutdownLevel: 'running',
    createExchange: <T>(body: T, headers: Record<string, unknown> = {}) =>
      ({ message: { body, headers } }) as unknown as Exchange<T>,
    // Exchanges never finish: only the deadline ends the stop.
    process: () => {
      onStart()
      return new Promise<void>(() => undefined)
    },
    wasAborted: () => false,
    notifyPending: () => undefined,
    setReady: () => undefined,
  }
}

describe('nats against a silent server', () => {
  it('stop and close end within the deadline once the signal aborts; the message comes back after ack_wait', async () => {
    const stream = await nats.stream('silent')
    await nats.publishNumbers(stream, 3)
    proxy = await startTcpProxy('127.0.0.1', 4222)
    const component = natsComponent({ servers: `127.0.0.1:${proxy.port}`, reconnectTimeWaitMs: 60_000 })
    const cc: ComponentContext = {
      name: 'silent',
      logger: silent,
      metrics: undefined,
      shutdownLevel: 'running',
    }
    await component.start!(cc)
    const endpoint = component.createEndpoint(
      parseUri('r', `nats:stream:${stream}?consumer=c&batch=1&ackWaitMs=2000`),
      cc,
    )
    let started!: () => void
    const running = new Promise<void>((resolve) => (started = resolve))
    const consumer = endpoint.createConsumer!(fakeHost(() => started()))
    await consumer.start()
    await running
    proxy.freeze()

    const deadline = new AbortController()
    const budgetMs = 300
    const t0 = performance.now()
    setTimeout(() => deadline.abort(new Error('deadline')), budgetMs).unref()
    await consumer.prepareShutdown!({
      forced: false,
      task: 'completeCurrentTaskOnly',
      signal: deadline.signal,
    })
    await consumer.stop({ forced: false, signal: deadline.signal })
    await component.close!({ forced: false, signal: deadline.signal })
    const elapsed = performance.now() - t0
    console.log(`bounded stop: ${Math.round(elapsed)} ms (deadline ${budgetMs} ms)`)
    expect(elapsed).toBeLessThan(budgetMs + 1000)

    // Nothing was acknowledged: all three come back (the running one after ack_wait).
    const seen = new Set<number>()
    for (let i = 0; i < 10 && seen.size < 3; i++)
      await nats.fetch(stream, 'c', 3, (m) => {
        seen.add(m.json<{ n: number }>().n)
        m.ack()
      })
    expect([...seen].sort()).toEqual([0, 1, 2])
  })
})
