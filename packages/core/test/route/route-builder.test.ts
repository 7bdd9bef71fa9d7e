import { describe, expect, it } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import type { RouteDsl } from '@dromedary/core'
import { collectRoutes } from '../../src/route/route-builder.js'

const E = CoreErrorCodes

function only(fn: (r: RouteDsl) => void) {
  const defs = collectRoutes(fn)
  expect(defs).toHaveLength(1)
  return defs[0]!
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return isDromedaryError(err) ? err.code : `not a DromedaryError: ${String(err)}`
  }
  return undefined
}

describe('route definition defaults', () => {
  it('has no id or startup order, auto-starts, shuts down with default/completeCurrentTaskOnly', () => {
    const def = only((r) => r.from('direct:a'))
    expect(def).toMatchObject({
      id: undefined,
      from: 'direct:a',
      startupOrder: undefined,
      autoStartup: true,
      shutdownRoute: 'default',
      shutdownRunningTask: 'completeCurrentTaskOnly',
      onExceptions: [],
      steps: [],
    })
  })

  it('is a plain object, not a builder', () => {
    const def = only((r) => r.from('direct:a').routeId('x'))
    expect(Object.getPrototypeOf(def)).toBe(Object.prototype)
  })
})

describe('route settings', () => {
  it('records routeId, startupOrder, autoStartup, shutdownRoute and shutdownRunningTask', () => {
    const def = only((r) =>
      r
        .from('seda:a')
        .routeId('orders')
        .startupOrder(10)
        .autoStartup(false)
        .shutdownRoute('defer')
        .shutdownRunningTask('completeAllTasks'),
    )
    expect(def).toMatchObject({
      id: 'orders',
      startupOrder: 10,
      autoStartup: false,
      shutdownRoute: 'defer',
      shutdownRunningTask: 'completeAllTasks',
    })
  })

  it('rejects an empty route id with DROMEDARY_ERR_INVALID_ROUTE', () => {
    expect(codeOf(() => only((r) => r.from('direct:a').routeId('')))).toBe(E.INVALID_ROUTE)
  })

  it('rejects a non-integer startup order with DROMEDARY_ERR_INVALID_ROUTE', () => {
    expect(codeOf(() => only((r) => r.from('direct:a').startupOrder(1.5)))).toBe(E.INVALID_ROUTE)
  })

  it('rejects an unknown shutdownRoute or shutdownRunningTask value', () => {
    expect(codeOf(() => only((r) => r.from('direct:a').shutdownRoute('later' as 'defer')))).toBe(
      E.INVALID_ROUTE,
    )
    expect(
      codeOf(() => only((r) => r.from('direct:a').shutdownRunningTask('some' as 'completeAllTasks'))),
    ).toBe(E.INVALID_ROUTE)
  })

  it('rejects route settings inside a choice branch', () => {
    expect(
      codeOf(() =>
        only((r) =>
          r.from('direct:a').choice((c) =>
            c.when(
              () => true,
              (b) => b.routeId('inner'),
            ),
          ),
        ),
      ),
    ).toBe(E.INVALID_ROUTE)
  })

  it('rejects route settings inside a split branch', () => {
    expect(
      codeOf(() =>
        only((r) =>
          r.from('direct:a').split(
            () => [1],
            (b) => b.startupOrder(3),
          ),
        ),
      ),
    ).toBe(E.INVALID_ROUTE)
  })
})

describe('steps as data', () => {
  it('records one step per call, in order, with its kind', () => {
    const def = only((r) =>
      r
        .from('direct:a')
        .process(() => undefined)
        .transform(() => 1)
        .setBody('x')
        .setHeader('h', 1)
        .removeHeader('h')
        .filter(() => true)
        .choice((c) =>
          c
            .when(
              () => true,
              (b) => b.to('mock:a'),
            )
            .otherwise((b) => b.to('mock:b')),
        )
        .split(
          () => [],
          (b) => b.to('mock:c'),
        )
        .to('mock:d')
        .toD(() => 'mock:e')
        .wireTap('mock:f')
        .multicast(['mock:g', 'mock:h'])
        .log('hi')
        .marshal('json')
        .unmarshal('json')
        .throttle(1, 10),
    )
    expect(def.steps.map((s) => s.kind)).toEqual([
      'process',
      'transform',
      'setBody',
      'setHeader',
      'removeHeader',
      'filter',
      'choice',
      'split',
      'to',
      'toD',
      'wireTap',
      'multicast',
      'log',
      'marshal',
      'unmarshal',
      'throttle',
    ])
  })

  it('keeps choice branches and the otherwise branch as nested step lists', () => {
    const def = only((r) =>
      r.from('direct:a').choice((c) =>
        c
          .when(
            () => true,
            (b) => b.to('mock:a').to('mock:b'),
          )
          .when(
            () => false,
            (b) => b.log('x'),
          )
          .otherwise((b) => b.setBody(1)),
      ),
    )
    const step = def.steps[0]
    expect(step?.kind).toBe('choice')
    if (step?.kind !== 'choice') return
    expect(step.whens.map((w) => w.steps.map((s) => s.kind))).toEqual([['to', 'to'], ['log']])
    expect(step.otherwise?.map((s) => s.kind)).toEqual(['setBody'])
  })

  it('marks split parallel only when asked', () => {
    const def = only((r) =>
      r
        .from('direct:a')
        .split(
          () => [],
          (b) => b.to('mock:x'),
        )
        .split(
          () => [],
          (b) => b.to('mock:x'),
          { parallel: true },
        ),
    )
    expect(def.steps.map((s) => (s.kind === 'split' ? s.parallel : undefined))).toEqual([false, true])
  })
})

describe('onException', () => {
  it('defaults to no redelivery, a 1000 ms delay, multiplier 1, not handled', () => {
    const def = only((r) => r.from('direct:a').onException({}))
    expect(def.onExceptions[0]).toEqual({
      matcher: undefined,
      options: {
        maximumRedeliveries: 0,
        redeliveryDelayMs: 1000,
        backoffMultiplier: 1,
        handled: false,
        to: undefined,
      },
    })
  })

  it('is handled by default when it has a dead-letter URI', () => {
    const def = only((r) => r.from('direct:a').onException({ to: 'mock:dead' }))
    expect(def.onExceptions[0]?.options.handled).toBe(true)
  })

  it('keeps handled false when asked even with a dead-letter URI', () => {
    const def = only((r) => r.from('direct:a').onException({ to: 'mock:dead', handled: false }))
    expect(def.onExceptions[0]?.options.handled).toBe(false)
  })

  it('records the matcher given first', () => {
    const def = only((r) => r.from('direct:a').onException(TypeError, { maximumRedeliveries: 2 }))
    expect(def.onExceptions[0]?.matcher).toBe(TypeError)
    expect(def.onExceptions[0]?.options.maximumRedeliveries).toBe(2)
  })

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'rejects maximumRedeliveries %s with DROMEDARY_ERR_INVALID_OPTION',
    (n) => {
      expect(codeOf(() => only((r) => r.from('direct:a').onException({ maximumRedeliveries: n })))).toBe(
        E.INVALID_OPTION,
      )
    },
  )

  it.each([Number.NaN, -1, 0.5, 2 ** 31, Number.POSITIVE_INFINITY])(
    'rejects a redelivery delay of %s ms with DROMEDARY_ERR_INVALID_OPTION',
    (ms) => {
      expect(codeOf(() => only((r) => r.from('direct:a').onException({ redeliveryDelayMs: ms })))).toBe(
        E.INVALID_OPTION,
      )
    },
  )
})
