// Every shutdown ends in bounded time, whatever its participants do, and what it leaves behind is still
// handed back or counted.
import type { Component, ConsumerHost, Exchange, IntegrationContext } from '@dromedary/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { disposeContexts, exchangesTotal, newContext } from '../support.js'
import { captureLogger, flush, track, untilAborted } from './support.js'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

const never = (): Promise<void> => new Promise<void>(() => undefined)

/** A component whose consumers' hooks and close do what the test says (default: finish at once). */
function stubComponent(hooks: {
  prepareShutdown?: () => void | Promise<void>
  stop?: () => void | Promise<void>
  close?: () => void | Promise<void>
}): { component: Component; hosts: ConsumerHost[] } {
  const hosts: ConsumerHost[] = []
  const component: Component = {
    createEndpoint(uri) {
      uri.parseOptions({})
      return {
        uri: uri.uri,
        createConsumer(host) {
          hosts.push(host)
          return {
            start: () => undefined,
            prepareShutdown: () => hooks.prepareShutdown?.(),
            stop: () => hooks.stop?.(),
          }
        },
      }
    },
    close: () => hooks.close?.(),
  }
  return { component, hosts }
}

/** Advances fake time until `p` settled, at most `ms`; returns whether it did. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  const t = track(p)
  await vi.advanceTimersByTimeAsync(ms)
  await flush(50)
  return t.settled
}

describe('a shutdown that runs out of time', () => {
  it('still drops and counts a seda backlog when another route’s intake stop at NOW never returns', async () => {
    const stub = stubComponent({ prepareShutdown: never })
    const ctx: IntegrationContext = newContext({
      logger: captureLogger(),
      // The routes left running at the timeout are forced at NOW, where the stub's intake stop hangs.
      shutdown: { timeoutMs: 100, nowBudgetMs: 100, shutdownNowOnTimeout: false },
      components: { stub: stub.component },
    })
    await ctx.addRoutes((r) => {
      r.from('seda:q').routeId('q').process(untilAborted)
      r.from('stub:in').routeId('stub').to('mock:stub')
    })
    await ctx.start()
    const sends: Array<Promise<Exchange>> = [
      ctx.producer().send('seda:q', 1),
      ctx.producer().send('seda:q', 2),
    ]
    await flush()
    expect(ctx.routes().find((r) => r.id === 'q')).toMatchObject({ inflight: 1, pending: 1 })

    expect(await settlesWithin(ctx.stop(), 100 + 100 + 1000)).toBe(true)
    await flush()
    expect((await Promise.all(sends)).map((ex) => ex.exception)).toEqual([undefined, undefined])
    // The one in flight was aborted and the queued one dropped: both counted, none lost silently.
    expect(await exchangesTotal(ctx, 'q', 'aborted')).toBe(2)
    expect(ctx.routes().find((r) => r.id === 'q')).toMatchObject({ status: 'stopped', pending: 0 })
  })
})
