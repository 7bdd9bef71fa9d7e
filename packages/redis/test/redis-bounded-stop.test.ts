/**
 * A Redis that goes silent with the socket open (a TCP proxy that stops forwarding) must not hold a shutdown:
 * once the deadline signal aborts, the consumer's prepareShutdown/stop and the component's close return at once,
 * and the unfinished entries stay pending for the next consumer (nothing acknowledged is lost). The signal is
 * our own AbortController, as the context passes it to participants.
 */
import type { ComponentContext, ConsumerHost, Exchange } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseUri } from '../../core/src/uri/uri.js'
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.js'
import { redisComponent } from '../src/index.js'
import { useRedis, type RedisOracle } from './support/server.js'

const suite = useRedis()
let redis: RedisOracle
let proxy: TcpProxy | undefined
beforeEach(() => {
  redis = suite.redis
})
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

const silent = { debug() {}, info() {}, warn() {}, error() {} }

function fakeHost(onStart: () => void): ConsumerHost {
  return {
    routeId: 'r',
    endpointUri: 'redis:…',
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

describe('redis against a silent server', () => {
  it('stop and close end within the deadline once the signal aborts; the entries stay pending', async () => {
    const stream = redis.key('silent')
    await redis.addNumbers(stream, 3)
    proxy = await startTcpProxy('127.0.0.1', 6379)
    const component = redisComponent({ url: `redis://127.0.0.1:${proxy.port}` })
    const cc: ComponentContext = {
      name: 'silent',
      logger: silent,
      metrics: undefined,
      shutdownLevel: 'running',
    }
    await component.start!(cc)
    const endpoint = component.createEndpoint(
      parseUri('r', `redis:stream:${stream}?group=g&consumer=c&batch=1`),
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

    // Nothing was acknowledged: one entry is pending (it ran), two were never delivered.
    expect(await redis.remaining(stream, 'g')).toBe(3)
    expect(await redis.pendingCount(stream, 'g')).toBe(1)
  })
})
