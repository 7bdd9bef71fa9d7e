import { firstValueFrom, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { CoreErrorCodes, DefaultShutdownStrategy, createContext, isDromedaryError } from '@dromedary/core'
import type { ContextEvent } from '@dromedary/core'
import { deferred, disposeContexts, flush, hostComponent, newContext } from '../support.js'

afterEach(disposeContexts)

const E = CoreErrorCodes

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe('createContext', () => {
  it('starts in status created, shutdown level running, live but not ready', () => {
    const ctx = newContext()
    expect(ctx.status).toBe('created')
    expect(ctx.shutdownLevel).toBe('running')
    expect(ctx.health()).toEqual({ live: true, ready: false })
  })

  it('is not ready while a component reports itself unhealthy, and stays live', async () => {
    let healthy = true
    const ctx = newContext().addComponent('flaky', {
      createEndpoint: (uri) => ({ uri: uri.uri }),
      healthy: () => healthy,
    })
    await ctx.start()
    expect(ctx.health()).toEqual({ live: true, ready: true })
    healthy = false
    expect(ctx.health()).toEqual({ live: true, ready: false })
    healthy = true
    expect(ctx.health()).toEqual({ live: true, ready: true })
  })

  it('names the context dromedary unless given a name', () => {
    expect(newContext().name).toBe('dromedary')
    expect(newContext({ name: 'orders' }).name).toBe('orders')
  })

  it('uses a DefaultShutdownStrategy with the 300 s timeout by default', () => {
    const strategy = newContext().shutdownStrategy
    expect(strategy).toBeInstanceOf(DefaultShutdownStrategy)
    expect((strategy as DefaultShutdownStrategy).timeoutMs).toBe(300_000)
  })

  it('lets the shutdown strategy be replaced', () => {
    const ctx = newContext()
    const custom = new DefaultShutdownStrategy({ timeoutMs: 5 })
    ctx.shutdownStrategy = custom
    expect(ctx.shutdownStrategy).toBe(custom)
  })

  it('registers the components given in options', async () => {
    const rec = hostComponent()
    const ctx = newContext({ components: { custom: rec.component } })
    await ctx.addRoutes((r) => r.from('custom:x').routeId('c').to('mock:out'))
    await ctx.start()
    expect(rec.calls).toEqual(['start:c'])
  })
})

describe('start()', () => {
  it('becomes started and ready', async () => {
    const ctx = newContext()
    await ctx.start()
    expect(ctx.status).toBe('started')
    expect(ctx.health()).toEqual({ live: true, ready: true })
  })

  it('emits context-starting, route-started per route in order, then context-started', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:b').routeId('b').startupOrder(2).to('mock:x')
      r.from('direct:a').routeId('a').startupOrder(1).to('mock:x')
    })
    const events = firstValueFrom(ctx.events$.pipe(toArray()))
    await ctx.start()
    await ctx.stop()
    const types = (await events).map((e: ContextEvent) =>
      e.type === 'route-started' ? `started:${e.routeId}` : e.type,
    )
    expect(types.slice(0, 4)).toEqual(['context-starting', 'started:a', 'started:b', 'context-started'])
  })

  it('starts routes by startupOrder, then unnumbered routes in definition order', async () => {
    const rec = hostComponent()
    const ctx = newContext()
    ctx.addComponent('h', rec.component)
    await ctx.addRoutes((r) => {
      r.from('h:u1').routeId('u1')
      r.from('h:n20').routeId('n20').startupOrder(20)
      r.from('h:u2').routeId('u2')
      r.from('h:n10').routeId('n10').startupOrder(10)
    })
    await ctx.start()
    expect(rec.calls).toEqual(['start:n10', 'start:n20', 'start:u1', 'start:u2'])
  })

  it('lists routes in startup order, numbering unnumbered routes from 1000 up', () => {
    const ctx = newContext()
    void ctx.addRoutes((r) => {
      r.from('direct:u1').routeId('u1')
      r.from('direct:n5').routeId('n5').startupOrder(5)
      r.from('direct:u2').routeId('u2')
    })
    expect(ctx.routes().map((r) => [r.id, r.startupOrder])).toEqual([
      ['n5', 5],
      ['u1', 1000],
      ['u2', 1001],
    ])
  })

  it('keeps numbering unnumbered routes across addRoutes calls', () => {
    const ctx = newContext()
    void ctx.addRoutes((r) => r.from('direct:a').routeId('a'))
    void ctx.addRoutes((r) => {
      r.from('direct:b').routeId('b')
      r.from('direct:c').routeId('c').startupOrder(3)
    })
    expect(ctx.routes().map((r) => [r.id, r.startupOrder])).toEqual([
      ['c', 3],
      ['a', 1000],
      ['b', 1001],
    ])
  })

  it('names routes without an id route1, route2, … in definition order', () => {
    const ctx = newContext()
    void ctx.addRoutes((r) => {
      r.from('direct:a')
      r.from('direct:b')
    })
    expect(ctx.routes().map((r) => r.id)).toEqual(['route1', 'route2'])
  })

  it('skips generated ids already taken by an explicit routeId', () => {
    const ctx = newContext()
    void ctx.addRoutes((r) => {
      r.from('direct:a')
      r.from('direct:b').routeId('route1')
    })
    expect(
      ctx
        .routes()
        .map((r) => r.id)
        .sort(),
    ).toEqual(['route1', 'route2'])
  })

  it('leaves autoStartup(false) routes stopped', async () => {
    const rec = hostComponent()
    const ctx = newContext({ components: { h: rec.component } })
    await ctx.addRoutes((r) => {
      r.from('h:on').routeId('on')
      r.from('h:off').routeId('off').autoStartup(false)
    })
    await ctx.start()
    expect(rec.calls).toEqual(['start:on'])
    expect(ctx.routes().find((r) => r.id === 'off')?.status).toBe('stopped')
  })

  it('starts an autoStartup(false) route on startRoute', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:off')
        .routeId('off')
        .autoStartup(false)
        .setBody(() => 'on'),
    )
    await ctx.start()
    await ctx.startRoute('off')
    expect(ctx.routes()[0]?.status).toBe('started')
    expect(await ctx.producer().request('direct:off', null)).toBe('on')
  })

  it('rejects with DROMEDARY_ERR_ROUTE_START_FAILED naming the route that failed to start', async () => {
    const rec = hostComponent({ failStart: 'b' })
    const ctx = newContext({ components: { h: rec.component } })
    await ctx.addRoutes((r) => {
      r.from('h:a').routeId('a').startupOrder(1)
      r.from('h:b').routeId('b').startupOrder(2)
    })
    const err = await ctx.start().catch((e: unknown) => e)
    expect(isDromedaryError(err, E.ROUTE_START_FAILED)).toBe(true)
    expect((err as Error).message).toContain('"b"')
    expect((err as Error).message).toContain('cannot bind b')
  })

  it('stops the routes already started when a later route fails to start, and starts no further ones', async () => {
    const rec = hostComponent({ failStart: 'b' })
    const ctx = newContext({ components: { h: rec.component } })
    await ctx.addRoutes((r) => {
      r.from('h:a').routeId('a').startupOrder(1)
      r.from('h:b').routeId('b').startupOrder(2)
      r.from('h:c').routeId('c').startupOrder(3)
    })
    await ctx.start().catch(() => undefined)
    expect(rec.calls).toEqual(['start:a', 'start:b', 'stop:a:true'])
    expect(ctx.routes().map((r) => r.status)).toEqual(['stopped', 'stopped', 'stopped'])
    expect(ctx.status).toBe('stopped')
  })
})

describe('addRoutes()', () => {
  it('rejects a duplicate route id in one call with DROMEDARY_ERR_DUPLICATE_ROUTE_ID', () => {
    const ctx = newContext()
    const err = thrown(() =>
      ctx.addRoutes((r) => {
        r.from('direct:a').routeId('same')
        r.from('direct:b').routeId('same')
      }),
    )
    expect(isDromedaryError(err, E.DUPLICATE_ROUTE_ID)).toBe(true)
    expect((err as Error).message).toContain('"same"')
  })

  it('rejects a route id already used by an earlier addRoutes', () => {
    const ctx = newContext()
    void ctx.addRoutes((r) => r.from('direct:a').routeId('same'))
    const err = thrown(() => ctx.addRoutes((r) => r.from('direct:b').routeId('same')))
    expect(isDromedaryError(err, E.DUPLICATE_ROUTE_ID)).toBe(true)
  })

  it('rejects a duplicate startup order with DROMEDARY_ERR_DUPLICATE_STARTUP_ORDER naming both routes', () => {
    const ctx = newContext()
    const err = thrown(() =>
      ctx.addRoutes((r) => {
        r.from('direct:a').routeId('first').startupOrder(7)
        r.from('direct:b').routeId('second').startupOrder(7)
      }),
    )
    expect(isDromedaryError(err, E.DUPLICATE_STARTUP_ORDER)).toBe(true)
    expect((err as Error).message).toMatch(/7.*"first".*"second"/)
  })

  it('adds none of the routes of a rejected call', () => {
    const ctx = newContext()
    expect(() =>
      ctx.addRoutes((r) => {
        r.from('direct:ok').routeId('ok')
        r.from('nope:x').routeId('bad')
      }),
    ).toThrow()
    expect(ctx.routes()).toEqual([])
  })

  it('rejects an unknown scheme in from() with DROMEDARY_ERR_UNKNOWN_SCHEME naming route, URI and scheme', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('nope:orders').routeId('r1')))
    expect(isDromedaryError(err, E.UNKNOWN_SCHEME)).toBe(true)
    const msg = (err as Error).message
    expect(msg).toContain('"r1"')
    expect(msg).toContain('"nope:orders"')
    expect(msg).toContain('"nope"')
  })

  it('rejects an unknown scheme in to() naming the route it appears in', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('direct:a').routeId('r2').to('bogus:target')))
    expect(isDromedaryError(err, E.UNKNOWN_SCHEME)).toBe(true)
    const msg = (err as Error).message
    expect(msg).toContain('"r2"')
    expect(msg).toContain('"bogus:target"')
    expect(msg).toContain('"bogus"')
  })

  it('rejects an unknown option with DROMEDARY_ERR_UNKNOWN_OPTION naming route, URI and option', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('seda:q?sizee=3').routeId('r3')))
    expect(isDromedaryError(err, E.UNKNOWN_OPTION)).toBe(true)
    const msg = (err as Error).message
    expect(msg).toContain('"r3"')
    expect(msg).toContain('"seda:q?sizee=3"')
    expect(msg).toContain('"sizee"')
  })

  it('rejects a wrong-typed number option with DROMEDARY_ERR_INVALID_OPTION naming route, URI, option and value', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('direct:a').routeId('r4').to('seda:q?size=big')))
    expect(isDromedaryError(err, E.INVALID_OPTION)).toBe(true)
    const msg = (err as Error).message
    expect(msg).toContain('"r4"')
    expect(msg).toContain('"seda:q?size=big"')
    expect(msg).toContain('"size"')
    expect(msg).toContain('"big"')
  })

  it('rejects a wrong-typed boolean option', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('seda:q?blockWhenFull=yes').routeId('r5')))
    expect(isDromedaryError(err, E.INVALID_OPTION)).toBe(true)
    expect((err as Error).message).toContain('"blockWhenFull"')
  })

  it('rejects a wrong-typed duration option', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('timer:t?period=soon').routeId('r6')))
    expect(isDromedaryError(err, E.INVALID_OPTION)).toBe(true)
    expect((err as Error).message).toMatch(/"r6".*"period".*"soon"/)
  })

  it('rejects a second consumer of the same direct endpoint with DROMEDARY_ERR_DUPLICATE_CONSUMER', () => {
    const ctx = newContext()
    void ctx.addRoutes((r) => r.from('direct:a').routeId('one'))
    const err = thrown(() => ctx.addRoutes((r) => r.from('direct:a').routeId('two')))
    expect(isDromedaryError(err, E.DUPLICATE_CONSUMER)).toBe(true)
  })

  it('rejects consuming from a producer-only endpoint with DROMEDARY_ERR_NOT_A_CONSUMER', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('mock:a').routeId('m')))
    expect(isDromedaryError(err, E.NOT_A_CONSUMER)).toBe(true)
  })

  it('rejects sending to a consumer-only endpoint with DROMEDARY_ERR_NOT_A_PRODUCER', () => {
    const ctx = newContext()
    const err = thrown(() => ctx.addRoutes((r) => r.from('direct:a').routeId('t').to('timer:x')))
    expect(isDromedaryError(err, E.NOT_A_PRODUCER)).toBe(true)
  })

  it('starts routes added after start() when they auto-start', async () => {
    const ctx = newContext()
    await ctx.start()
    await ctx.addRoutes((r) =>
      r
        .from('direct:late')
        .routeId('late')
        .setBody(() => 'late'),
    )
    await expect(ctx.producer().request('direct:late', null)).resolves.toBe('late')
  })

  it('rejects addRoutes once the context has stopped with DROMEDARY_ERR_SHUTTING_DOWN', async () => {
    const ctx = newContext()
    await ctx.start()
    await ctx.stop()
    const err = thrown(() => ctx.addRoutes((r) => r.from('direct:x')))
    expect(isDromedaryError(err, E.SHUTTING_DOWN)).toBe(true)
  })
})

describe('addComponent()', () => {
  it('registers a scheme usable by routes added afterwards', async () => {
    const rec = hostComponent()
    const ctx = newContext()
    ctx.addComponent('Custom', rec.component)
    await ctx.addRoutes((r) => r.from('custom:x').routeId('x'))
    await ctx.start()
    expect(rec.hosts.has('x')).toBe(true)
  })

  it('throws DROMEDARY_ERR_ALREADY_STARTED after start()', async () => {
    const ctx = newContext()
    await ctx.start()
    const err = thrown(() => ctx.addComponent('late', hostComponent().component))
    expect(isDromedaryError(err, E.ALREADY_STARTED)).toBe(true)
  })
})

describe('routes()', () => {
  it('reports id, from, startupOrder, status, inflight and pending', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('seda:q?concurrentConsumers=2').routeId('q').startupOrder(4).to('mock:x'),
    )
    await ctx.start()
    expect(ctx.routes()).toEqual([
      {
        id: 'q',
        from: 'seda:q?concurrentConsumers=2',
        startupOrder: 4,
        status: 'started',
        inflight: 0,
        pending: 0,
      },
    ])
  })
})

describe('per-route control', () => {
  it.each(['startRoute', 'stopRoute', 'suspendRoute', 'resumeRoute'] as const)(
    '%s of an unknown id rejects with DROMEDARY_ERR_UNKNOWN_ROUTE',
    async (method) => {
      const ctx = newContext()
      await ctx.start()
      const err = await ctx[method]('ghost').catch((e: unknown) => e)
      expect(isDromedaryError(err, E.UNKNOWN_ROUTE)).toBe(true)
      expect((err as Error).message).toContain('"ghost"')
    },
  )

  it('startRoute before start() rejects with DROMEDARY_ERR_NOT_STARTED', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a'))
    const err = await ctx.startRoute('a').catch((e: unknown) => e)
    expect(isDromedaryError(err, E.NOT_STARTED)).toBe(true)
  })

  it('suspendRoute stops intake: a suspended direct route has no consumer', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a'))
    await ctx.start()
    await ctx.suspendRoute('a')
    expect(ctx.routes()[0]?.status).toBe('suspended')
    const ex = await ctx.producer().send('direct:a', 1)
    expect(isDromedaryError(ex.exception, E.NO_CONSUMER)).toBe(true)
  })

  it('suspend then resume leaves the route exactly as before: started, ready, up, nothing pending', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:in').routeId('in').to('mock:out'))
    await ctx.start()
    const before = ctx.routes()
    await ctx.suspendRoute('in')
    await ctx.resumeRoute('in')
    expect(ctx.routes()).toEqual(before)
    expect(ctx.shutdownLevel).toBe('running')
    expect(ctx.health()).toEqual({ live: true, ready: true })
    expect(ctx.metrics?.getSingleMetric('dromedary_route_up')).toBeDefined()
    const { values } = await ctx.metrics!.getSingleMetric('dromedary_route_up')!.get()
    expect(values.find((v) => v.labels.route === 'in')?.value).toBe(1)
  })

  it('messages sent to a suspended seda route wait and are processed after resume', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:in').routeId('in').to('mock:out'))
    await ctx.start()
    await ctx.suspendRoute('in')
    await ctx.producer().send('seda:in', 'a')
    await ctx.producer().send('seda:in', 'b')
    expect(ctx.routes()[0]?.pending).toBe(2)
    expect(ctx.mock('out').receivedExchanges).toHaveLength(0)
    await ctx.resumeRoute('in')
    await ctx.mock('out').expectedBodiesReceived('a', 'b').assertIsSatisfied({ timeoutMs: 1000 })
    expect(ctx.routes()[0]?.pending).toBe(0)
  })

  it('a suspended-then-resumed route still stops gracefully', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:in').routeId('in').to('mock:out'))
    await ctx.start()
    await ctx.suspendRoute('in')
    await ctx.resumeRoute('in')
    const report = await ctx.stop({ timeoutMs: 1000 })
    expect(report.graceful).toBe(true)
    expect(report.routes.map((r) => r.id)).toEqual(['in'])
  })

  it('stopRoute stops one route and leaves the others running', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:a')
        .routeId('a')
        .setBody(() => 'a')
      r.from('direct:b')
        .routeId('b')
        .setBody(() => 'b')
    })
    await ctx.start()
    await expect(ctx.stopRoute('a', { timeoutMs: 1000 })).resolves.toBe(true)
    expect(ctx.routes().map((r) => [r.id, r.status])).toEqual([
      ['a', 'stopped'],
      ['b', 'started'],
    ])
    expect(await ctx.producer().request('direct:b', null)).toBe('b')
    expect(ctx.shutdownLevel).toBe('running')
  })

  it('startRoute restarts a stopped route', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .setBody(() => 'again'),
    )
    await ctx.start()
    await ctx.stopRoute('a', { timeoutMs: 1000 })
    await ctx.startRoute('a')
    expect(await ctx.producer().request('direct:a', null)).toBe('again')
  })
})

describe('producer()', () => {
  it('send resolves with the exchange after the route ran', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').setHeader('seen', true))
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', { n: 1 }, { h: 'x' })
    expect(ex.message.headers).toEqual({ h: 'x', seen: true })
    expect(ex.message.body).toEqual({ n: 1 })
    expect(ex.exception).toBeUndefined()
  })

  it('send copies a header named __proto__ as a plain header, never as the prototype', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').setHeader('seen', true))
    await ctx.start()
    const headers = JSON.parse('{"__proto__": {"polluted": true}, "h": "x"}') as Record<string, unknown>
    const ex = await ctx.producer().send('direct:a', null, headers)
    const copy = ex.message.headers
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.keys(copy)).toEqual(['__proto__', 'h', 'seen'])
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('send resolves (not rejects) with exception set when the route failed', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('direct:a').process(() => {
        throw new Error('boom')
      }),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect((ex.exception as Error).message).toBe('boom')
  })

  it('request resolves with the reply body', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from<number>('direct:double').transform((ex) => ex.message.body * 2))
    await ctx.start()
    await expect(ctx.producer().request('direct:double', 21)).resolves.toBe(42)
  })

  it('request rejects with the failure', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('direct:a').process(() => {
        throw new Error('nope')
      }),
    )
    await ctx.start()
    await expect(ctx.producer().request('direct:a', null)).rejects.toThrow('nope')
  })

  it('rejects an unknown scheme', async () => {
    const ctx = newContext()
    await ctx.start()
    const ex = await ctx.producer().send('nowhere:x', null)
    expect(isDromedaryError(ex.exception, E.UNKNOWN_SCHEME)).toBe(true)
  })
})

describe('stop()', () => {
  it('returns the same promise when called twice', async () => {
    const ctx = newContext()
    await ctx.start()
    const a = ctx.stop()
    const b = ctx.stop()
    expect(a).toBe(b)
    await a
  })

  it('ends in status stopped, not live, with whenStopped resolved to the report', async () => {
    const ctx = newContext()
    await ctx.start()
    const report = await ctx.stop()
    expect(ctx.status).toBe('stopped')
    expect(ctx.health()).toEqual({ live: false, ready: false })
    await expect(ctx.whenStopped()).resolves.toBe(report)
    expect(report.graceful).toBe(true)
  })

  it('waits for an exchange in flight before resolving', async () => {
    const ctx = newContext()
    const gate = deferred()
    const entered = deferred()
    await ctx.addRoutes((r) =>
      r
        .from('seda:in')
        .routeId('in')
        .process(() => {
          entered.resolve()
          return gate.promise
        })
        .to('mock:out'),
    )
    await ctx.start()
    await ctx.producer().send('seda:in', 'x')
    await entered.promise
    let stopped = false
    const stopping = ctx.stop({ timeoutMs: 5000 }).then(() => (stopped = true))
    await flush()
    expect(stopped).toBe(false)
    gate.resolve()
    await stopping
    expect(ctx.mock('out').receivedExchanges).toHaveLength(1)
  })

  it('is what Symbol.asyncDispose does', async () => {
    const ctx = createContext({ logger: false })
    await ctx.start()
    await ctx[Symbol.asyncDispose]()
    expect(ctx.status).toBe('stopped')
  })

  it('emits context-stopped with the report and completes events$', async () => {
    const ctx = newContext()
    await ctx.start()
    const all = firstValueFrom(ctx.events$.pipe(toArray()))
    const report = await ctx.stop()
    const events = await all
    expect(events.at(-1)).toEqual({ type: 'context-stopped', report })
  })
})
