// Every step of SPEC §3.1, run through a real context.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import type { IntegrationContext } from '@dromedary/core'
import { captureLogger, deferred, disposeContexts, flush, newContext } from '../support.js'

afterEach(async () => {
  vi.useRealTimers()
  await disposeContexts()
})

const E = CoreErrorCodes

const bodies = (ctx: IntegrationContext, mock: string) =>
  ctx.mock(mock).receivedExchanges.map((e) => e.message.body)

async function started(define: Parameters<IntegrationContext['addRoutes']>[0], ctx = newContext()) {
  await ctx.addRoutes(define)
  await ctx.start()
  return ctx
}

describe('process', () => {
  it('runs the function on the exchange, which it may change', async () => {
    const ctx = await started((r) =>
      r.from<{ n: number }>('direct:a').process((ex) => {
        ex.message.headers.seen = ex.message.body.n
      }),
    )
    const ex = await ctx.producer().send('direct:a', { n: 7 })
    expect(ex.message.headers.seen).toBe(7)
  })

  it('awaits an async function before the next step', async () => {
    const order: string[] = []
    const ctx = await started((r) =>
      r
        .from('direct:a')
        .process(async () => {
          await flush()
          order.push('first')
        })
        .process(() => {
          order.push('second')
        }),
    )
    await ctx.producer().send('direct:a', null)
    expect(order).toEqual(['first', 'second'])
  })

  it('fails the exchange with what the function throws and skips the rest', async () => {
    const ctx = await started((r) =>
      r
        .from('direct:a')
        .process(() => {
          throw new RangeError('bad')
        })
        .to('mock:after'),
    )
    const ex = await ctx.producer().send('direct:a', null)
    expect(ex.exception).toBeInstanceOf(RangeError)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('fails the exchange with what an async function rejects with', async () => {
    const ctx = await started((r) =>
      r.from('direct:a').process(async () => {
        await flush()
        throw new Error('late')
      }),
    )
    await expect(ctx.producer().request('direct:a', null)).rejects.toThrow('late')
  })
})

describe('transform', () => {
  it('replaces the body with the return value', async () => {
    const ctx = await started((r) => r.from<number>('direct:a').transform((ex) => `n=${ex.message.body}`))
    expect(await ctx.producer().request('direct:a', 3)).toBe('n=3')
  })

  it('replaces the body with the resolved value of an async function', async () => {
    const ctx = await started((r) =>
      r.from<number>('direct:a').transform(async (ex) => {
        await flush()
        return ex.message.body + 1
      }),
    )
    expect(await ctx.producer().request('direct:a', 1)).toBe(2)
  })
})

describe('setBody', () => {
  it('sets a constant', async () => {
    const ctx = await started((r) => r.from('direct:a').setBody({ fixed: true }))
    expect(await ctx.producer().request('direct:a', 'x')).toEqual({ fixed: true })
  })

  it('sets what a function of the exchange returns', async () => {
    const ctx = await started((r) => r.from<string>('direct:a').setBody((ex) => ex.message.body.length))
    expect(await ctx.producer().request('direct:a', 'four')).toBe(4)
  })

  it('sets what an async function resolves to', async () => {
    const ctx = await started((r) => r.from('direct:a').setBody(async () => 'later'))
    expect(await ctx.producer().request('direct:a', null)).toBe('later')
  })
})

describe('setHeader and removeHeader', () => {
  it('sets a constant header', async () => {
    const ctx = await started((r) => r.from('direct:a').setHeader('kind', 'order'))
    expect((await ctx.producer().send('direct:a', null)).message.headers.kind).toBe('order')
  })

  it('sets a header computed from the exchange, also asynchronously', async () => {
    const ctx = await started((r) =>
      r
        .from<number>('direct:a')
        .setHeader('double', (ex: { message: { body: number } }) => ex.message.body * 2)
        .setHeader('later', async () => 'yes'),
    )
    const ex = await ctx.producer().send('direct:a', 5)
    expect(ex.message.headers).toMatchObject({ double: 10, later: 'yes' })
  })

  it('removes a header', async () => {
    const ctx = await started((r) => r.from('direct:a').removeHeader('secret'))
    const ex = await ctx.producer().send('direct:a', null, { secret: 's', keep: 'k' })
    expect(ex.message.headers).toEqual({ keep: 'k' })
  })
})

describe('filter', () => {
  it('lets exchanges through when the predicate holds', async () => {
    const ctx = await started((r) =>
      r
        .from<number>('direct:a')
        .filter((ex) => ex.message.body > 0)
        .to('mock:out'),
    )
    await ctx.producer().send('direct:a', 1)
    expect(bodies(ctx, 'out')).toEqual([1])
  })

  it('ends the exchange, completed and without error, when the predicate fails', async () => {
    const ctx = await started((r) =>
      r
        .from<number>('direct:a')
        .filter((ex) => ex.message.body > 0)
        .to('mock:out'),
    )
    const ex = await ctx.producer().send('direct:a', -1)
    expect(ex.exception).toBeUndefined()
    expect(bodies(ctx, 'out')).toEqual([])
  })

  it('awaits an async predicate', async () => {
    const ctx = await started((r) =>
      r
        .from<number>('direct:a')
        .filter(async (ex) => ex.message.body % 2 === 0)
        .to('mock:out'),
    )
    for (const n of [1, 2, 3, 4]) await ctx.producer().send('direct:a', n)
    expect(bodies(ctx, 'out')).toEqual([2, 4])
  })
})

describe('choice', () => {
  const define = (ctx: IntegrationContext) =>
    started(
      (r) =>
        r
          .from<number>('direct:a')
          .choice((c) =>
            c
              .when(
                (ex) => ex.message.body > 100,
                (b) => b.to('mock:big'),
              )
              .when(
                (ex) => ex.message.body > 10,
                (b) => b.to('mock:medium'),
              )
              .otherwise((b) => b.to('mock:small')),
          )
          .to('mock:after'),
      ctx,
    )

  it('runs the first matching when branch only', async () => {
    const ctx = await define(newContext())
    await ctx.producer().send('direct:a', 500)
    expect(bodies(ctx, 'big')).toEqual([500])
    expect(bodies(ctx, 'medium')).toEqual([])
  })

  it('runs the otherwise branch when nothing matches', async () => {
    const ctx = await define(newContext())
    await ctx.producer().send('direct:a', 1)
    expect(bodies(ctx, 'small')).toEqual([1])
  })

  it('continues with the steps after the choice', async () => {
    const ctx = await define(newContext())
    for (const n of [1, 50, 500]) await ctx.producer().send('direct:a', n)
    expect(bodies(ctx, 'after')).toEqual([1, 50, 500])
  })

  it('continues unchanged when nothing matches and there is no otherwise', async () => {
    const ctx = await started((r) =>
      r
        .from('direct:a')
        .choice((c) =>
          c.when(
            () => false,
            (b) => b.setBody('changed'),
          ),
        )
        .to('mock:after'),
    )
    await ctx.producer().send('direct:a', 'same')
    expect(bodies(ctx, 'after')).toEqual(['same'])
  })

  it('evaluates async predicates in order', async () => {
    const ctx = await started((r) =>
      r.from<number>('direct:a').choice((c) =>
        c
          .when(
            async () => false,
            (b) => b.setBody('first'),
          )
          .when(
            async (ex) => ex.message.body === 2,
            (b) => b.setBody('second'),
          )
          .otherwise((b) => b.setBody('other')),
      ),
    )
    expect(await ctx.producer().request('direct:a', 2)).toBe('second')
    expect(await ctx.producer().request('direct:a', 3)).toBe('other')
  })

  it('stops the route when a branch fails', async () => {
    const ctx = await started((r) =>
      r
        .from('direct:a')
        .choice((c) =>
          c.when(
            () => true,
            (b) =>
              b.process(() => {
                throw new Error('in branch')
              }),
          ),
        )
        .to('mock:after'),
    )
    await expect(ctx.producer().request('direct:a', null)).rejects.toThrow('in branch')
    expect(bodies(ctx, 'after')).toEqual([])
  })
})

describe('split', () => {
  it('runs the branch once per item, in order, with the item as body', async () => {
    const ctx = await started((r) =>
      r.from<string>('direct:a').split(
        (ex) => ex.message.body.split(','),
        (b) => b.to('mock:part'),
      ),
    )
    await ctx.producer().send('direct:a', 'x,y,z')
    expect(bodies(ctx, 'part')).toEqual(['x', 'y', 'z'])
  })

  it('gives every part a copy of the headers and leaves the original exchange unchanged', async () => {
    const ctx = await started((r) =>
      r
        .from<number[]>('direct:a')
        .split(
          (ex) => ex.message.body,
          (b) => b.setHeader('part', true).to('mock:part'),
        )
        .to('mock:after'),
    )
    await ctx.producer().send('direct:a', [1, 2], { origin: 'o' })
    expect(ctx.mock('part').receivedExchanges.map((e) => e.message.headers)).toEqual([
      { origin: 'o', part: true },
      { origin: 'o', part: true },
    ])
    expect(ctx.mock('after').receivedExchanges[0]?.message).toEqual({
      body: [1, 2],
      headers: { origin: 'o' },
    })
  })

  it('accepts an async iterable-returning function', async () => {
    const ctx = await started((r) =>
      r.from('direct:a').split(
        async () => new Set(['p', 'q']),
        (b) => b.to('mock:part'),
      ),
    )
    await ctx.producer().send('direct:a', null)
    expect(bodies(ctx, 'part')).toEqual(['p', 'q'])
  })

  it('runs parts one at a time unless parallel', async () => {
    let running = 0
    let max = 0
    const ctx = await started((r) =>
      r.from<number[]>('direct:a').split(
        (ex) => ex.message.body,
        (b) =>
          b.process(async () => {
            max = Math.max(max, ++running)
            await flush()
            running--
          }),
      ),
    )
    await ctx.producer().send('direct:a', [1, 2, 3, 4])
    expect(max).toBe(1)
  })

  it('runs parts concurrently with parallel: true', async () => {
    const gate = deferred()
    let startedParts = 0
    const ctx = await started((r) =>
      r
        .from<number[]>('direct:a')
        .split(
          (ex) => ex.message.body,
          (b) =>
            b.process(async () => {
              startedParts++
              await gate.promise
            }),
          { parallel: true },
        )
        .to('mock:after'),
    )
    const sent = ctx.producer().send('direct:a', [1, 2, 3])
    await flush()
    // All three parts are waiting on the gate at once: only possible when they run in parallel.
    expect(startedParts).toBe(3)
    expect(bodies(ctx, 'after')).toEqual([])
    gate.resolve()
    await sent
    expect(bodies(ctx, 'after')).toEqual([[1, 2, 3]])
  })

  it('fails the exchange when a part fails, after running the other parts', async () => {
    const ctx = await started((r) =>
      r
        .from<number[]>('direct:a')
        .split(
          (ex) => ex.message.body,
          (b) =>
            b
              .process((ex) => {
                if (ex.message.body === 2) throw new Error('part 2')
              })
              .to('mock:part'),
        )
        .to('mock:after'),
    )
    const ex = await ctx.producer().send('direct:a', [1, 2, 3])
    expect((ex.exception as Error).message).toBe('part 2')
    expect(bodies(ctx, 'part')).toEqual([1, 3])
    expect(bodies(ctx, 'after')).toEqual([])
  })
})

describe('to and toD', () => {
  it('to sends the exchange to the endpoint and continues', async () => {
    const ctx = await started((r) => r.from('direct:a').to('mock:one').to('mock:two'))
    await ctx.producer().send('direct:a', 'm')
    expect(bodies(ctx, 'one')).toEqual(['m'])
    expect(bodies(ctx, 'two')).toEqual(['m'])
  })

  it('to a direct endpoint continues with the reply of the called route', async () => {
    const ctx = await started((r) => {
      r.from('direct:a').to('direct:upper').to('mock:out')
      r.from<string>('direct:upper').transform((ex) => ex.message.body.toUpperCase())
    })
    await ctx.producer().send('direct:a', 'abc')
    expect(bodies(ctx, 'out')).toEqual(['ABC'])
  })

  it('toD computes the endpoint per exchange', async () => {
    const ctx = await started((r) =>
      r.from<{ to: string }>('direct:a').toD((ex) => `mock:${ex.message.body.to}`),
    )
    await ctx.producer().send('direct:a', { to: 'left' })
    await ctx.producer().send('direct:a', { to: 'right' })
    await ctx.producer().send('direct:a', { to: 'left' })
    expect(ctx.mock('left').receivedExchanges).toHaveLength(2)
    expect(ctx.mock('right').receivedExchanges).toHaveLength(1)
  })

  it('toD to an unknown scheme fails the exchange with DROMEDARY_ERR_UNKNOWN_SCHEME', async () => {
    const ctx = await started((r) => r.from('direct:a').toD(() => 'nowhere:x'))
    const ex = await ctx.producer().send('direct:a', null)
    expect(isDromedaryError(ex.exception, E.UNKNOWN_SCHEME)).toBe(true)
  })
})

describe('wireTap', () => {
  it('sends a copy to the tap and continues without waiting for it', async () => {
    const gate = deferred()
    const ctx = await started((r) => {
      r.from('direct:a').wireTap('direct:tap').to('mock:main')
      r.from('direct:tap')
        .process(() => gate.promise)
        .to('mock:tapped')
    })
    await ctx.producer().send('direct:a', 'm')
    expect(bodies(ctx, 'main')).toEqual(['m'])
    expect(bodies(ctx, 'tapped')).toEqual([])
    gate.resolve()
    await ctx.mock('tapped').expectedBodiesReceived('m').assertIsSatisfied({ timeoutMs: 1000 })
  })

  it('does not let the tap change the original exchange', async () => {
    const ctx = await started((r) => {
      r.from('direct:a').wireTap('direct:tap').to('mock:main')
      r.from('direct:tap').setBody('tap body').setHeader('tapped', true)
    })
    const ex = await ctx.producer().send('direct:a', 'orig')
    expect(ex.message).toEqual({ body: 'orig', headers: {} })
  })

  it('logs a failing tap as a warning without failing the exchange', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => {
      r.from('direct:a').routeId('a').wireTap('direct:nobody').to('mock:main')
    })
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', 'm')
    expect(ex.exception).toBeUndefined()
    expect(bodies(ctx, 'main')).toEqual(['m'])
    expect(lines.some((l) => l.level === 'warn' && l.msg?.includes('wireTap to direct:nobody failed'))).toBe(
      true,
    )
  })
})

describe('multicast', () => {
  it('sends a copy to every endpoint in order, then continues with the original', async () => {
    const order: string[] = []
    const ctx = await started((r) => {
      r.from('direct:a').multicast(['direct:one', 'direct:two']).to('mock:after')
      r.from('direct:one')
        .process(() => {
          order.push('one')
        })
        .setBody('one')
      r.from('direct:two')
        .process(() => {
          order.push('two')
        })
        .setBody('two')
    })
    await ctx.producer().send('direct:a', 'orig')
    expect(order).toEqual(['one', 'two'])
    expect(bodies(ctx, 'after')).toEqual(['orig'])
  })

  it('fails the exchange when a target fails', async () => {
    const ctx = await started((r) => {
      r.from('direct:a').multicast(['mock:first', 'direct:bad']).to('mock:after')
      r.from('direct:bad').process(() => {
        throw new Error('target down')
      })
    })
    await expect(ctx.producer().request('direct:a', null)).rejects.toThrow('target down')
    expect(ctx.mock('first').receivedExchanges).toHaveLength(1)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })
})

describe('log', () => {
  it('logs the message at info with ${body} and ${id} filled in', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').log('got ${body} in ${id}'))
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', { n: 1 })
    expect(lines).toContainEqual({
      level: 'info',
      obj: { route: 'a', exchangeId: ex.id },
      msg: `got {"n":1} in ${ex.id}`,
    })
  })

  it('logs what a function of the exchange returns', async () => {
    const { logger, lines } = captureLogger()
    const ctx = newContext({ logger })
    await ctx.addRoutes((r) => r.from<string>('direct:a').log((ex) => `len ${ex.message.body.length}`))
    await ctx.start()
    await ctx.producer().send('direct:a', 'abcd')
    expect(lines.some((l) => l.level === 'info' && l.msg === 'len 4')).toBe(true)
  })
})

describe('marshal and unmarshal json', () => {
  it('marshal turns the body into a JSON string', async () => {
    const ctx = await started((r) => r.from('direct:a').marshal('json'))
    expect(await ctx.producer().request('direct:a', { a: [1, 2] })).toBe('{"a":[1,2]}')
  })

  it('unmarshal parses a JSON string', async () => {
    const ctx = await started((r) => r.from('direct:a').unmarshal('json'))
    expect(await ctx.producer().request('direct:a', '{"a":1}')).toEqual({ a: 1 })
  })

  it('unmarshal parses a JSON Buffer', async () => {
    const ctx = await started((r) => r.from('direct:a').unmarshal('json'))
    expect(await ctx.producer().request('direct:a', Buffer.from('[true]'))).toEqual([true])
  })

  it('unmarshal leaves an already structured body alone', async () => {
    const ctx = await started((r) => r.from('direct:a').unmarshal('json'))
    expect(await ctx.producer().request('direct:a', { already: 'parsed' })).toEqual({ already: 'parsed' })
  })

  it('bad JSON fails the exchange with DROMEDARY_ERR_UNMARSHAL and the parse error as cause', async () => {
    const ctx = await started((r) => r.from('direct:a').unmarshal('json').to('mock:after'))
    const ex = await ctx.producer().send('direct:a', '{not json')
    expect(isDromedaryError(ex.exception, E.UNMARSHAL)).toBe(true)
    expect((ex.exception as Error).cause).toBeInstanceOf(SyntaxError)
    expect(ctx.mock('after').receivedExchanges).toHaveLength(0)
  })

  it('a number body cannot be unmarshalled', async () => {
    const ctx = await started((r) => r.from('direct:a').unmarshal('json'))
    const ex = await ctx.producer().send('direct:a', 42)
    expect(isDromedaryError(ex.exception, E.UNMARSHAL)).toBe(true)
  })

  it('a cyclic body fails marshal with DROMEDARY_ERR_MARSHAL', async () => {
    const ctx = await started((r) => r.from('direct:a').marshal('json'))
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const ex = await ctx.producer().send('direct:a', cyclic)
    expect(isDromedaryError(ex.exception, E.MARSHAL)).toBe(true)
  })

  it('round-trips through marshal then unmarshal', async () => {
    const ctx = await started((r) => r.from('direct:a').marshal('json').unmarshal('json'))
    expect(await ctx.producer().request('direct:a', { deep: { x: [1, 'y'] } })).toEqual({
      deep: { x: [1, 'y'] },
    })
  })
})

describe('throttle', () => {
  it('lets count exchanges through per window and holds the rest until the window moves', async () => {
    vi.useFakeTimers()
    const ctx = await started((r) => r.from<number>('direct:a').throttle(2, 1000).to('mock:out'))
    const sends = [1, 2, 3, 4, 5].map((n) => ctx.producer().send('direct:a', n))
    await vi.advanceTimersByTimeAsync(0)
    expect(bodies(ctx, 'out')).toEqual([1, 2])
    await vi.advanceTimersByTimeAsync(999)
    expect(bodies(ctx, 'out')).toEqual([1, 2])
    await vi.advanceTimersByTimeAsync(1)
    expect(bodies(ctx, 'out')).toEqual([1, 2, 3, 4])
    await vi.advanceTimersByTimeAsync(1000)
    expect(bodies(ctx, 'out')).toEqual([1, 2, 3, 4, 5])
    await Promise.all(sends)
  })

  it('keeps a held exchange in flight while it waits', async () => {
    vi.useFakeTimers()
    const ctx = await started((r) => r.from('direct:a').routeId('a').throttle(1, 500).to('mock:out'))
    const sends = [ctx.producer().send('direct:a', 1), ctx.producer().send('direct:a', 2)]
    await vi.advanceTimersByTimeAsync(0)
    expect(ctx.inflight.size('a')).toBe(1)
    await vi.advanceTimersByTimeAsync(500)
    await Promise.all(sends)
    expect(ctx.inflight.size('a')).toBe(0)
  })

  it('does not allocate its window up front, so a huge count costs nothing until traffic needs it', async () => {
    const before = process.memoryUsage().heapUsed
    const ctx = await started((r) => r.from<number>('direct:a').throttle(1e9, 1000).to('mock:out'))
    // A billion-slot array would be gigabytes; the window grows with the exchanges that pass.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024)
    await Promise.all([1, 2, 3].map((n) => ctx.producer().send('direct:a', n)))
    expect(bodies(ctx, 'out')).toEqual([1, 2, 3])
  })

  it('rejects a count below 1 at addRoutes with DROMEDARY_ERR_INVALID_ROUTE', () => {
    const ctx = newContext()
    let err: unknown
    try {
      void ctx.addRoutes((r) => r.from('direct:a').throttle(0, 1000))
    } catch (e) {
      err = e
    }
    expect(isDromedaryError(err, E.INVALID_ROUTE)).toBe(true)
  })
})
