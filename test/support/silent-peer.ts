/**
 * Bounded shutdown against a peer that goes silent with its sockets open: a consumer of `uri` (through a
 * component pointed at a `TcpProxy`) starts one exchange that never finishes, the proxy freezes, then the
 * consumer's prepareShutdown and stop and the component's close run with a deadline signal of our own (as the
 * context passes it) that aborts after `deadlineMs`. Resolves with how long the three took; the caller checks
 * that it is the deadline plus little, and what the broker kept.
 */
import type { Component, ComponentContext, ConsumerHost, Exchange } from '@dromedary/core'
import { parseUri } from '../../packages/core/src/uri/uri.js'
import type { TcpProxy } from './tcp-proxy.js'

const silent = { debug() {}, info() {}, warn() {}, error() {} }

export async function stopAgainstSilentPeer(options: {
  component: Component
  proxy: TcpProxy
  uri: string
  deadlineMs: number
}): Promise<number> {
  const { component, proxy, uri, deadlineMs } = options
  const cc: ComponentContext = {
    name: 'silent',
    logger: silent,
    metrics: undefined,
    shutdownLevel: 'running',
  }
  await component.start!(cc)
  const endpoint = component.createEndpoint(parseUri('r', uri), cc)
  let started!: () => void
  const running = new Promise<void>((resolve) => (started = resolve))
  const consumer = endpoint.createConsumer!(blockingHost(() => started()))
  await consumer.start()
  await running
  proxy.freeze()

  const deadline = new AbortController()
  const t0 = performance.now()
  setTimeout(() => deadline.abort(new Error('deadline')), deadlineMs).unref()
  await consumer.prepareShutdown!({ forced: false, task: 'completeCurrentTaskOnly', signal: deadline.signal })
  await consumer.stop({ forced: false, signal: deadline.signal })
  await component.close!({ forced: false, signal: deadline.signal })
  return performance.now() - t0
}

/** A route whose exchanges never finish: only the deadline ends a stop. */
function blockingHost(onStart: () => void): ConsumerHost {
  return {
    routeId: 'r',
    endpointUri: 'silent',
    logger: silent,
    shutdownRunningTask: 'completeCurrentTaskOnly',
    shutdownLevel: 'running',
    createExchange: <T>(body: T, headers: Record<string, unknown> = {}) =>
      ({ message: { body, headers } }) as unknown as Exchange<T>,
    process: () => {
      onStart()
      return new Promise<void>(() => undefined)
    },
    wasAborted: () => false,
    notifyPending: () => undefined,
    setReady: () => undefined,
  }
}
