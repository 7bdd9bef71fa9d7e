// "Aborted means stopped" and the error/abort cases of issue 15: an aborted exchange runs no further step,
// copies are tracked and aborted with their route, built-in waits end at once on abort.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isDromedaryError, type Component, type Producer } from '@dromedary/core'
import { captureLogger, deferred, disposeContexts, exchangesTotal, flush, newContext } from '../support.js'

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

/** A step that ignores its exchange's signal and ends only when `release` is called. */
function stubborn() {
  const entered = deferred()
  const gate = deferred()
  return {
    entered: entered.promise,
    release: () => gate.resolve(),
    fn: async () => {
      entered.resolve()
      await gate.promise
    },
  }
}

describe('an aborted exchange', () => {
  it('goes no further than the step it was in after a forced stopRoute, and counts as aborted', async () => {
    const ctx = newContext()
    const step = stubborn()
    await ctx.addRoutes((r) => r.from('seda:a').routeId('a').process(step.fn).to('mock:next'))
    await ctx.start()
    await ctx.producer().send('seda:a', 'x')
    await step.entered
    const stopped = ctx.stopRoute('a', { timeoutMs: 50 })
    await expect(stopped).resolves.toBe(true)
    step.release()
    await ctx.inflight.whenEmpty()
    expect(ctx.mock('next').receivedExchanges).toHaveLength(0)
    expect(await exchangesTotal(ctx, 'a', 'aborted')).toBe(1)
    expect(await exchangesTotal(ctx, 'a', 'completed')).toBe(0)
  })

  it('aborts the split parts and multicast copies still running, which reach no later step', async () => {
    const ctx = newContext()
    const step = stubborn()
    const slow = stubborn()
    await ctx.addRoutes((r) => {
      r.from('seda:split')
        .routeId('split')
        .split(
          (ex) => ex.message.body as number[],
          (b) => b.process(step.fn).to('mock:part'),
          { parallel: true },
        )
        .to('mock:after-split')
      r.from('seda:multi').routeId('multi').multicast(['direct:slow', 'mock:second']).to('mock:after-multi')
      r.from('direct:slow').routeId('slow').process(slow.fn).to('mock:slow-done')
    })
    await ctx.start()
    await ctx.producer().send('seda:split', [1, 2, 3])
    await ctx.producer().send('seda:multi', 'm')
    await step.entered
    await slow.entered
    await flush()
    // The parent of each plus its running copies are in flight in the route that made them.
    expect(ctx.inflight.size('split')).toBe(4)
    const report = await ctx.forceStop()
    step.release()
    slow.release()
    await ctx.inflight.whenEmpty()
    for (const m of ['part', 'after-split', 'slow-done', 'second', 'after-multi'])
      expect(ctx.mock(m).receivedExchanges, m).toHaveLength(0)
    // Copies are parts of their exchange, not exchanges of their own: one aborted exchange per route.
    expect(report.routes.find((r) => r.id === 'split')?.aborted).toBe(1)
    expect(report.routes.find((r) => r.id === 'multi')?.aborted).toBe(1)
    expect(await exchangesTotal(ctx, 'split', 'aborted')).toBe(1)
  })

  it('ends a sender blocked on a full seda queue (blockWhenFull) at once when forced, enqueuing nothing', async () => {
    const ctx = newContext()
    const step = stubborn()
    await ctx.addRoutes((r) => {
      r.from('seda:full?size=1').routeId('consumer').process(step.fn)
      r.from('direct:send').routeId('sender').to('seda:full?size=1&blockWhenFull=true')
    })
    await ctx.start()
    await ctx.producer().send('direct:send', 1) // taken by the consumer, which hangs
    await step.entered
    await ctx.producer().send('direct:send', 2) // fills the queue
    const blocked = ctx.producer().send('direct:send', 3) // blocks
    await flush()
    const report = await ctx.forceStop()
    const ex = await blocked
    expect(isDromedaryError(ex.exception, 'DROMEDARY_ERR_ABORTED')).toBe(true)
    // 1 running + 1 queued on the consumer; the blocked sender is the sender route's.
    expect(report.routes.find((r) => r.id === 'consumer')?.aborted).toBe(2)
    expect(report.routes.find((r) => r.id === 'sender')?.aborted).toBe(1)
    step.release()
  })
})

describe('seda waitForTaskToComplete=always', () => {
  it('completes the sender only when the consumer exchange completed, and fails it when that one failed', async () => {
    const ctx = newContext()
    const gate = deferred()
    await ctx.addRoutes((r) => {
      r.from('direct:in').routeId('in').to('seda:work?waitForTaskToComplete=always')
      r.from('seda:work')
        .routeId('work')
        .process(async (ex) => {
          await gate.promise
          if (ex.message.body === 'bad') throw new Error('bad work')
        })
    })
    await ctx.start()
    let done = false
    const good = ctx
      .producer()
      .send('direct:in', 'good')
      .then((ex) => ((done = true), ex))
    await flush()
    expect(done).toBe(false)
    gate.resolve()
    expect((await good).exception).toBeUndefined()
    const bad = await ctx.producer().send('direct:in', 'bad')
    expect((bad.exception as Error).message).toBe('bad work')
  })

  it('aborts the sender (so its source hands the message back) when a forced stop drops the queued message', async () => {
    const ctx = newContext()
    const step = stubborn()
    await ctx.addRoutes((r) => {
      r.from('direct:in').routeId('in').to('seda:work?waitForTaskToComplete=always')
      r.from('seda:work').routeId('work').process(step.fn)
    })
    await ctx.start()
    const first = ctx.producer().send('direct:in', 1)
    await step.entered
    const second = ctx.producer().send('direct:in', 2)
    await flush()
    await ctx.forceStop()
    step.release()
    for (const ex of [await first, await second])
      expect(isDromedaryError(ex.exception, 'DROMEDARY_ERR_ABORTED')).toBe(true)
  })

  it('warns at start about an acknowledging consumer that hands off to seda without it', async () => {
    const { logger, lines } = captureLogger()
    const requeue: Component = {
      createEndpoint: (uri) => ({
        uri: uri.uri,
        createConsumer: () => ({ handsBack: true, start() {}, stop() {} }),
      }),
    }
    const ctx = newContext({ logger, components: { broker: requeue } })
    await ctx.addRoutes((r) => {
      r.from('broker:q').routeId('bridge').to('seda:work')
      r.from('broker:q2').routeId('safe').to('seda:work2?waitForTaskToComplete=always')
      r.from('seda:work').to('mock:w')
      r.from('seda:work2').to('mock:w2')
    })
    await ctx.start()
    const warned = lines.filter((l) => l.level === 'warn' && l.msg?.includes('acknowledges its messages'))
    expect(warned.map((l) => l.msg)).toEqual([
      expect.stringContaining('Route bridge acknowledges its messages when they reach seda:work;'),
    ])
  })
})

describe('a seda queue no route consumes', () => {
  it('is warned about at start, and what is left in it at stop is logged and counted as dropped', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => r.from('direct:in').routeId('in').to('seda:nobody'))
    await ctx.start()
    expect(lines.some((l) => l.msg?.startsWith('No route consumes seda://nobody'))).toBe(true)
    await ctx.producer().send('direct:in', 1)
    await ctx.producer().send('direct:in', 2)
    await ctx.stop()
    expect(
      lines.some((l) => l.msg === 'Dropped 2 messages left in seda://nobody, which no route consumes'),
    ).toBe(true)
    expect(await ctx.metrics!.metrics()).toContain(
      'dromedary_messages_dropped_total{context="dromedary",endpoint="seda://nobody"} 2',
    )
  })

  it('refuses a send with DROMEDARY_ERR_NO_CONSUMER when failIfNoConsumers=true', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:in').to('seda:nobody?failIfNoConsumers=true'))
    await ctx.start()
    const ex = await ctx.producer().send('direct:in', 1)
    expect(isDromedaryError(ex.exception, 'DROMEDARY_ERR_NO_CONSUMER')).toBe(true)
  })
})

describe('toD', () => {
  it('keeps at most toDCacheSize producers, stopping the evicted ones, and starts each before its first send', async () => {
    const started: string[] = []
    const stopped: string[] = []
    const counting: Component = {
      createEndpoint: (uri) => ({
        uri: uri.uri,
        createProducer: (): Producer => ({
          async start() {
            await flush()
            started.push(uri.path)
          },
          process(ex) {
            // Every send, also the concurrent first ones, comes after the start.
            if (!started.includes(uri.path)) ex.exception = new Error(`sent before start: ${uri.path}`)
          },
          stop() {
            stopped.push(uri.path)
          },
        }),
      }),
    }
    const ctx = newContext({ components: { count: counting } })
    await ctx.addRoutes((r) =>
      r
        .from('direct:in')
        .routeId('in')
        .toDCacheSize(10)
        .toD((ex) => `count:q${String(ex.message.body)}`),
    )
    await ctx.start()
    const sends = []
    for (let i = 0; i < 100; i++)
      sends.push(ctx.producer().send('direct:in', i % 50), ctx.producer().send('direct:in', i % 50))
    const results = await Promise.all(sends)
    expect(results.filter((ex) => ex.exception !== undefined)).toEqual([])
    expect(new Set(started).size).toBeLessThanOrEqual(100)
    // Never more than the cache size alive at once: every producer beyond it was stopped.
    expect(started.length - stopped.length).toBeLessThanOrEqual(10)
  })
})

describe('exchanges from the ProducerTemplate', () => {
  it('belong to the route consuming the endpoint, and a forced stopRoute aborts one waiting in a nested direct:', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    const step = stubborn()
    await ctx.addRoutes((r) => {
      r.from('direct:a').routeId('a').to('direct:b').to('mock:after')
      r.from('direct:b').routeId('b').process(step.fn)
    })
    await ctx.start()
    const sent = ctx.producer().send('direct:a', 1)
    await step.entered
    expect(ctx.inflight.browse()).toEqual([
      expect.objectContaining({ fromRouteId: 'a', atRouteId: 'b', nodeId: 'process1' }),
    ])
    await expect(ctx.stopRoute('a', { timeoutMs: 20 })).resolves.toBe(true)
    expect(lines.some((l) => l.msg?.includes('fromRouteId=a, atRouteId=b, nodeId=process1'))).toBe(true)
    step.release()
    const ex = await sent
    expect(ex.fromRouteId).toBe('a')
    expect(isDromedaryError(ex.exception, 'DROMEDARY_ERR_ABORTED')).toBe(true)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })
})

describe('browse()', () => {
  it('names the step an exchange is in while that step runs synchronously, and never a stale async one', async () => {
    const ctx = newContext()
    const seen: string[] = []
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .delay(1)
        .process(() => void seen.push(ctx.inflight.browse()[0]!.nodeId))
        .setHeader('x', () => seen.push(ctx.inflight.browse()[0]!.nodeId)),
    )
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(seen).toEqual(['process2', 'setHeader3'])
  })
})

describe('log steps', () => {
  it("substitute ${body} literally, also a body containing $& or $'", async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => r.from('direct:a').log('got ${body} (${id})'))
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', "price $& and $' here")
    expect(lines.map((l) => l.msg)).toContain(`got price $& and $' here (${ex.id})`)
  })
})

describe('in-flight counts', () => {
  it('agree between inflight.size(id) and routes(): queued worker-group tasks are pending in both', async () => {
    const ctx = newContext({ workerGroups: { pool: { workers: 1 } } })
    const step = stubborn()
    await ctx.addRoutes((r) => {
      r.from('seda:in?concurrentConsumers=5').routeId('in').asyncTask('direct:work', { group: 'pool' })
      r.from('direct:work').routeId('work').process(step.fn)
    })
    await ctx.start()
    for (let i = 0; i < 3; i++) await ctx.producer().send('seda:in', i)
    await step.entered
    await flush()
    const info = ctx.routes().find((r) => r.id === 'in')!
    expect(ctx.inflight.size('in')).toBe(info.inflight)
    expect(info).toMatchObject({ inflight: 1, pending: 2 })
    step.release()
  })
})
