// onException (SPEC §3.2): redelivery, backoff, matchers, dead letter, handled.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CoreErrorCodes,
  EXCEPTION_CAUGHT,
  REDELIVERY_COUNTER,
  isDromedaryError,
  type Component,
  type Consumer,
  type ConsumerHost,
  type Exchange,
} from '@dromedary/core'
import { captureLogger, disposeContexts, exchangesTotal, newContext } from '../support.js'

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

const E = CoreErrorCodes

/** A step that fails its first `failures` calls and records the redelivery counter it saw each time. */
function flaky(failures: number, make: () => Error = () => new Error('flaky')) {
  const seen: unknown[] = []
  const at: number[] = []
  return {
    seen,
    at,
    fn: (ex: { message: { headers: Record<string, unknown> } }) => {
      seen.push(ex.message.headers[REDELIVERY_COUNTER])
      at.push(Date.now())
      if (seen.length <= failures) throw make()
    },
  }
}

describe('redelivery', () => {
  it('uses the header dromedary.redeliveryCounter', () => {
    expect(REDELIVERY_COUNTER).toBe('dromedary.redeliveryCounter')
  })

  it('does not redeliver by default', async () => {
    const step = flaky(10)
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').onException({}).process(step.fn))
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(step.seen).toHaveLength(1)
  })

  it('tries the failing step 1 + maximumRedeliveries times, counting redeliveries in the header', async () => {
    const step = flaky(10)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('direct:a').onException({ maximumRedeliveries: 3, redeliveryDelayMs: 0 }).process(step.fn),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(step.seen).toEqual([undefined, 1, 2, 3])
    expect((ex.exception as Error).message).toBe('flaky')
    expect(ex.message.headers[REDELIVERY_COUNTER]).toBe(3)
  })

  it('redelivers only the failing step, not the steps before it', async () => {
    let before = 0
    const step = flaky(2)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException({ maximumRedeliveries: 5, redeliveryDelayMs: 0 })
        .process(() => {
          before++
        })
        .process(step.fn)
        .to('mock:after'),
    )
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(before).toBe(1)
    expect(step.seen).toHaveLength(3)
  })

  it('completes the exchange and runs the rest of the route when a redelivery succeeds', async () => {
    const step = flaky(2)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .onException({ maximumRedeliveries: 5, redeliveryDelayMs: 0 })
        .process(step.fn)
        .to('mock:after'),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', 'x')
    expect(ex.exception).toBeUndefined()
    expect(ctx.mock('after').receivedExchanges).toHaveLength(1)
    expect(await exchangesTotal(ctx, 'a', 'completed')).toBe(1)
    expect(await exchangesTotal(ctx, 'a', 'failed')).toBe(0)
  })

  it('redelivers an async step that rejects', async () => {
    let calls = 0
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException({ maximumRedeliveries: 2, redeliveryDelayMs: 0 })
        .process(async () => {
          calls++
          await Promise.resolve()
          throw new Error('async')
        }),
    )
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(calls).toBe(3)
  })

  it('waits redeliveryDelayMs (1000 by default) before a redelivery', async () => {
    vi.useFakeTimers()
    const step = flaky(1)
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').onException({ maximumRedeliveries: 1 }).process(step.fn))
    await ctx.start()
    const sent = ctx.producer().send('direct:a', null)
    await vi.advanceTimersByTimeAsync(999)
    expect(step.seen).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(step.seen).toHaveLength(2)
    expect((await sent).exception).toBeUndefined()
  })

  it('multiplies the delay by backoffMultiplier after each redelivery', async () => {
    vi.useFakeTimers()
    const step = flaky(10)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException({ maximumRedeliveries: 3, redeliveryDelayMs: 100, backoffMultiplier: 2 })
        .process(step.fn),
    )
    await ctx.start()
    const t0 = Date.now()
    const sent = ctx.producer().send('direct:a', null)
    await vi.advanceTimersByTimeAsync(10_000)
    await sent
    expect(step.at.map((t) => t - t0)).toEqual([0, 100, 300, 700])
  })

  it('keeps the exchange in flight while it waits for a redelivery', async () => {
    vi.useFakeTimers()
    const step = flaky(1)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .onException({ maximumRedeliveries: 1, redeliveryDelayMs: 500 })
        .process(step.fn),
    )
    await ctx.start()
    const sent = ctx.producer().send('direct:a', null)
    await vi.advanceTimersByTimeAsync(100)
    expect(ctx.inflight.browse()).toMatchObject([{ atRouteId: 'a', nodeId: 'process1' }])
    await vi.advanceTimersByTimeAsync(400)
    await sent
    expect(ctx.inflight.size()).toBe(0)
  })

  it('redelivers a failing step inside a split branch only maximumRedeliveries times', async () => {
    let calls = 0
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from<number[]>('direct:a')
        .onException({ maximumRedeliveries: 2, redeliveryDelayMs: 0 })
        .split(
          (ex) => ex.message.body,
          (b) =>
            b.process(() => {
              calls++
              throw new Error('part fails')
            }),
        ),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', [1])
    expect((ex.exception as Error).message).toBe('part fails')
    expect(calls).toBe(3)
  })
})

describe('matchers', () => {
  class PaymentError extends Error {}

  it('matches by error class, subclasses included, first matching clause wins', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from<string>('direct:a')
        .onException(PaymentError, { to: 'mock:payment' })
        .onException(TypeError, { to: 'mock:type' })
        .onException({ to: 'mock:other' })
        .process((ex) => {
          if (ex.message.body === 'payment') throw new (class extends PaymentError {})('p')
          if (ex.message.body === 'type') throw new TypeError('t')
          throw new Error('e')
        }),
    )
    await ctx.start()
    for (const body of ['payment', 'type', 'other']) await ctx.producer().send('direct:a', body)
    expect(ctx.mock('payment').receivedExchanges.map((e) => e.message.body)).toEqual(['payment'])
    expect(ctx.mock('type').receivedExchanges.map((e) => e.message.body)).toEqual(['type'])
    expect(ctx.mock('other').receivedExchanges.map((e) => e.message.body)).toEqual(['other'])
  })

  it('matches a DromedaryError by its code', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('direct:a').onException(E.UNMARSHAL, { to: 'mock:bad-json' }).unmarshal('json'),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', '{oops')
    expect(ex.exception).toBeUndefined()
    expect(ctx.mock('bad-json').receivedExchanges).toHaveLength(1)
  })

  it('does not match a code against a plain Error', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException(E.UNMARSHAL, { to: 'mock:bad-json' })
        .process(() => {
          throw new Error('DROMEDARY_ERR_UNMARSHAL')
        }),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(ex.exception).toBeInstanceOf(Error)
    expect(ctx.mock('bad-json').receivedExchanges).toHaveLength(0)
  })

  it('matches with a predicate over the error', async () => {
    const step = flaky(10, () => new Error('please retry'))
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException((err) => err instanceof Error && err.message.includes('retry'), {
          maximumRedeliveries: 2,
          redeliveryDelayMs: 0,
        })
        .process(step.fn),
    )
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(step.seen).toHaveLength(3)
  })

  it('leaves an error no clause matches on the exchange, without redelivery', async () => {
    const step = flaky(10, () => new RangeError('unmatched'))
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException(TypeError, { maximumRedeliveries: 3, redeliveryDelayMs: 0, to: 'mock:dead' })
        .process(step.fn),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(ex.exception).toBeInstanceOf(RangeError)
    expect(step.seen).toHaveLength(1)
    expect(ctx.mock('dead').receivedExchanges).toHaveLength(0)
  })

  it('stops redelivering when a redelivery fails with an error of another clause', async () => {
    let calls = 0
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException(TypeError, { maximumRedeliveries: 5, redeliveryDelayMs: 0 })
        .process(() => {
          calls++
          throw calls === 1 ? new TypeError('first') : new RangeError('second')
        }),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(calls).toBe(2)
    expect(ex.exception).toBeInstanceOf(RangeError)
  })
})

describe('dead letter and handled', () => {
  it('sends the exchange to the dead-letter URI after the last redelivery, and it completes', async () => {
    const step = flaky(10)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .onException({ maximumRedeliveries: 2, redeliveryDelayMs: 0, to: 'mock:dead' })
        .process(step.fn)
        .to('mock:after'),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', 'poison')
    expect(ex.exception).toBeUndefined()
    const dead = ctx.mock('dead').receivedExchanges
    expect(dead.map((e) => e.message.body)).toEqual(['poison'])
    expect(dead[0]?.message.headers[REDELIVERY_COUNTER]).toBe(2)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
    expect(await exchangesTotal(ctx, 'a', 'completed')).toBe(1)
    expect(await exchangesTotal(ctx, 'a', 'failed')).toBe(0)
  })

  it('lets the dead-letter endpoint see the error in the exchange property dromedary.exceptionCaught', async () => {
    const ctx = newContext()
    let seen: unknown
    let exception: unknown = 'not seen'
    await ctx.addRoutes((r) => {
      r.from('direct:a')
        .onException({ to: 'direct:dlq' })
        .process(() => {
          throw new Error('why')
        })
      r.from('direct:dlq').process((ex) => {
        seen = ex.properties.get(EXCEPTION_CAUGHT)
        exception = ex.exception
      })
    })
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect((seen as Error).message).toBe('why')
    expect(exception).toBeUndefined()
  })

  it('handles the exchange once a direct: dead-letter route completed it: the caller sees success, both routes count completed', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => {
      r.from('direct:a')
        .routeId('a')
        .onException({ to: 'direct:dlq' })
        .process(() => {
          throw new Error('poison')
        })
      r.from('direct:dlq').routeId('dlq').to('mock:parked')
    })
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', 'm')
    expect(ex.exception).toBeUndefined()
    expect(ctx.mock('parked').receivedExchanges).toHaveLength(1)
    expect(await exchangesTotal(ctx, 'a', 'completed')).toBe(1)
    expect(await exchangesTotal(ctx, 'a', 'failed')).toBe(0)
    expect(await exchangesTotal(ctx, 'dlq', 'completed')).toBe(1)
    expect(lines.some((l) => l.msg?.startsWith('Dead letter delivery'))).toBe(false)
  })

  it('fails the exchange with the error of a matcher that throws, logged once, and leaves nothing in flight', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    const matcherBug = (e: unknown) => (e as { response: { status: number } }).response.status === 503
    await ctx.addRoutes((r) => {
      r.from('direct:a')
        .routeId('a')
        .onException(matcherBug, { to: 'mock:dead' })
        .process(() => {
          throw new Error('plain')
        })
      r.from('seda:b')
        .routeId('b')
        .onException(matcherBug, { to: 'mock:dead' })
        .process(() => {
          throw new Error('plain')
        })
    })
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(ex.exception).toBeInstanceOf(TypeError)
    await ctx.producer().send('seda:b', null)
    await vi.waitFor(() => expect(ctx.inflight.size()).toBe(0))
    await vi.waitFor(async () => expect(await exchangesTotal(ctx, 'b', 'failed')).toBe(1))
    expect(lines.filter((l) => l.msg?.startsWith('onException matcher threw'))).toHaveLength(2)
    expect(ctx.mock('dead').receivedExchanges).toHaveLength(0)
    expect((await ctx.stop({ timeoutMs: 1000 })).graceful).toBe(true)
  })

  it('routes to a dead-letter route that can process the message', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:a')
        .onException({ to: 'direct:dlq' })
        .process(() => {
          throw new Error('x')
        })
      r.from('direct:dlq').routeId('dlq').setHeader('parked', true).to('mock:parked')
    })
    await ctx.start()
    await ctx.producer().send('direct:a', 'm')
    expect(ctx.mock('parked').receivedExchanges[0]?.message.headers.parked).toBe(true)
  })

  it('with handled: false, dead-letters but leaves the exchange failed', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .onException({ to: 'mock:dead', handled: false })
        .process(() => {
          throw new Error('still failed')
        }),
    )
    await ctx.start()
    await expect(ctx.producer().request('direct:a', null)).rejects.toThrow('still failed')
    expect(ctx.mock('dead').receivedExchanges).toHaveLength(1)
    expect(await exchangesTotal(ctx, 'a', 'failed')).toBe(1)
  })

  it('with handled: true and no dead letter, clears the error so the exchange completes', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .onException({ handled: true })
        .process(() => {
          throw new Error('swallowed')
        })
        .to('mock:after'),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(ex.exception).toBeUndefined()
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('leaves the exchange failed with the dead-letter error when the dead letter itself fails', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .onException({ to: 'direct:nobody' })
        .process(() => {
          throw new Error('original')
        }),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(isDromedaryError(ex.exception, E.NO_CONSUMER)).toBe(true)
    expect(
      lines.filter(
        (l) => l.level === 'error' && l.msg?.startsWith('Dead letter delivery to direct:nobody failed'),
      ),
    ).toHaveLength(1)
  })

  it('validates the dead-letter URI at addRoutes', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('direct:a').onException({ to: 'nope:dlq' }))).toThrow(
      expect.objectContaining({ code: E.UNKNOWN_SCHEME }),
    )
  })
})

describe('errors across direct calls', () => {
  it("applies the caller's onException to a failure in the called route", async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:a').onException({ to: 'mock:caller-dead' }).to('direct:b')
      r.from('direct:b').process(() => {
        throw new Error('in b')
      })
    })
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', null)
    expect(ex.exception).toBeUndefined()
    expect(ctx.mock('caller-dead').receivedExchanges).toHaveLength(1)
  })

  it("lets the called route's own onException handle it first", async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:a').onException({ to: 'mock:caller-dead' }).to('direct:b').to('mock:after')
      r.from('direct:b')
        .onException({ to: 'mock:callee-dead' })
        .process(() => {
          throw new Error('in b')
        })
    })
    await ctx.start()
    await ctx.producer().send('direct:a', null)
    expect(ctx.mock('callee-dead').receivedExchanges).toHaveLength(1)
    expect(ctx.mock('caller-dead').receivedExchanges).toHaveLength(0)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(1)
  })
})

describe('redelivery during shutdown', () => {
  it('hands an exchange with redeliveries left back (aborted) once shutdown is past NOTICE when its consumer can requeue', async () => {
    const step = flaky(10)
    const handedBack: Exchange[] = []
    const source = requeueing(handedBack)
    const ctx = newContext({ components: { requeue: source.component } })
    await ctx.addRoutes((r) =>
      r
        .from('requeue:work')
        .routeId('work')
        .onException({ maximumRedeliveries: 5, redeliveryDelayMs: 50, to: 'mock:dead' })
        .process(step.fn),
    )
    await ctx.start()
    source.feed('job')
    await vi.waitFor(() => expect(step.seen.length).toBeGreaterThanOrEqual(1))
    const report = await ctx.stop({ timeoutMs: 5000 })
    expect(report.graceful).toBe(true)
    expect(step.seen.length).toBeLessThan(6)
    expect(ctx.mock('dead').receivedExchanges).toHaveLength(0)
    expect(handedBack).toHaveLength(1)
    expect(await exchangesTotal(ctx, 'work', 'aborted')).toBe(1)
    expect(await exchangesTotal(ctx, 'work', 'failed')).toBe(0)
  })

  it('dead-letters a seda exchange whose redeliveries shutdown cut short: seda cannot take it back', async () => {
    const step = flaky(10)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:work')
        .routeId('work')
        .onException({ maximumRedeliveries: 5, redeliveryDelayMs: 50, to: 'mock:dead' })
        .process(step.fn),
    )
    await ctx.start()
    await ctx.producer().send('seda:work', 'job')
    await vi.waitFor(() => expect(step.seen.length).toBeGreaterThanOrEqual(1))
    const report = await ctx.stop({ timeoutMs: 5000 })
    expect(report.graceful).toBe(true)
    expect(step.seen.length).toBeLessThan(6)
    expect(ctx.mock('dead').receivedExchanges).toHaveLength(1)
    expect(await exchangesTotal(ctx, 'work', 'completed')).toBe(1)
    expect(await exchangesTotal(ctx, 'work', 'aborted')).toBe(0)
  })

  it('keeps redelivering while a completeAllTasks route drains', async () => {
    const step = flaky(2)
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('seda:work')
        .routeId('work')
        .shutdownRunningTask('completeAllTasks')
        .onException({ maximumRedeliveries: 5, redeliveryDelayMs: 20 })
        .process(step.fn),
    )
    await ctx.start()
    await ctx.producer().send('seda:work', 'job')
    await vi.waitFor(() => expect(step.seen.length).toBeGreaterThanOrEqual(1))
    await ctx.stop({ timeoutMs: 5000 })
    expect(step.seen).toEqual([undefined, 1, 2])
    expect(await exchangesTotal(ctx, 'work', 'completed')).toBe(1)
  })
})

/** `requeue:name`: a consumer that can hand work back (like AMQP); `feed` sends it a message. */
function requeueing(handedBack: Exchange[]): { component: Component; feed(body: unknown): void } {
  let consumerHost: ConsumerHost | undefined
  return {
    component: {
      createEndpoint: (uri) => ({
        uri: uri.uri,
        createConsumer(host: ConsumerHost): Consumer {
          consumerHost = host
          return { handsBack: true, start() {}, stop() {} }
        },
      }),
    },
    feed(body) {
      const host = consumerHost!
      const ex = host.createExchange(body)
      const settle = () => {
        if (host.wasAborted(ex)) handedBack.push(ex)
      }
      const r = host.process(ex)
      if (r === undefined) settle()
      else void r.then(settle)
    },
  }
}
