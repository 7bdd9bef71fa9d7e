import { createContext, isDromedaryError, MAX_DURATION_MS } from '@dromedary/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { amqpComponent, AmqpErrorCodes, type AmqpComponentOptions } from '../src/index.js'

/** The code of the error `fn` throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (isDromedaryError(err)) return err.code
    throw err
  }
  throw new Error('expected a DromedaryError, nothing was thrown')
}

/** Adds one route to a context that is never started: URIs are validated at `addRoutes`. */
function addRoute(from: string, to = 'mock:out'): string {
  const ctx = createContext({ logger: false })
  ctx.addComponent('amqp', amqpComponent({ url: 'amqp://guest:guest@127.0.0.1:5672' }))
  return codeOf(() => ctx.addRoutes((r) => r.from(from).routeId('r').to(to)))
}

describe('amqp endpoint URIs', () => {
  it.each([
    ['an unknown option', 'amqp:queue:q?prefetc=10', 'DROMEDARY_ERR_UNKNOWN_OPTION'],
    ['a producer option on a consumer', 'amqp:queue:q?persistent=false', 'DROMEDARY_ERR_UNKNOWN_OPTION'],
    ['a prefetch of 0', 'amqp:queue:q?prefetch=0', 'DROMEDARY_ERR_INVALID_OPTION'],
    ['a non-integer prefetch', 'amqp:queue:q?prefetch=2.5', 'DROMEDARY_ERR_INVALID_OPTION'],
    ['a prefetch above 65535', 'amqp:queue:q?prefetch=70000', AmqpErrorCodes.INVALID_ENDPOINT],
    ['a non-boolean durable', 'amqp:queue:q?durable=yes', 'DROMEDARY_ERR_INVALID_OPTION'],
    ['an unknown content type', 'amqp:queue:q?contentType=xml', 'DROMEDARY_ERR_INVALID_OPTION'],
    ['a negative maxRedeliveries', 'amqp:queue:q?maxRedeliveries=-1', 'DROMEDARY_ERR_INVALID_OPTION'],
    ['an unknown kind', 'amqp:topic:q', AmqpErrorCodes.INVALID_ENDPOINT],
    ['no kind', 'amqp:q', AmqpErrorCodes.INVALID_ENDPOINT],
    ['an empty queue name', 'amqp:queue:', AmqpErrorCodes.INVALID_ENDPOINT],
    ['a name longer than 255 bytes', `amqp:queue:${'q'.repeat(256)}`, AmqpErrorCodes.INVALID_ENDPOINT],
    ['an exchange', 'amqp:exchange:events', 'DROMEDARY_ERR_NOT_A_CONSUMER'],
  ])('rejects a consumer URI with %s', (_, uri, code) => {
    expect(addRoute(uri)).toBe(code)
  })

  it.each([
    ['a consumer option on a queue producer', 'amqp:queue:q?prefetch=5', 'DROMEDARY_ERR_UNKNOWN_OPTION'],
    ['an unknown exchange option', 'amqp:exchange:e?routingkey=a', 'DROMEDARY_ERR_UNKNOWN_OPTION'],
    ['an unknown exchange type', 'amqp:exchange:e?exchangeType=x-delayed', 'DROMEDARY_ERR_INVALID_OPTION'],
    ['a non-boolean mandatory', 'amqp:exchange:e?mandatory=1', 'DROMEDARY_ERR_INVALID_OPTION'],
    ['an empty exchange name', 'amqp:exchange:', AmqpErrorCodes.INVALID_ENDPOINT],
  ])('rejects a producer URI with %s', (_, uri, code) => {
    expect(addRoute('direct:in', uri)).toBe(code)
  })

  it('names the route, the URI and the option in the message', () => {
    const ctx = createContext({ logger: false })
    ctx.addComponent('amqp', amqpComponent({ url: 'amqp://127.0.0.1' }))
    let message = ''
    try {
      void ctx.addRoutes((r) => r.from('amqp:queue:orders?prefetch=zero').routeId('orders').to('mock:x'))
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain('Route "orders"')
    expect(message).toContain('amqp:queue:orders?prefetch=zero')
    expect(message).toContain('"prefetch"')
  })

  it('names the route and the URI for a bad endpoint path', () => {
    const ctx = createContext({ logger: false })
    ctx.addComponent('amqp', amqpComponent({ url: 'amqp://127.0.0.1' }))
    expect(() => ctx.addRoutes((r) => r.from('amqp:topic:t').routeId('t1').to('mock:x'))).toThrow(
      'Route "t1": invalid AMQP endpoint "amqp:topic:t"',
    )
  })

  it('accepts every documented option', () => {
    const ctx = createContext({ logger: false })
    ctx.addComponent('amqp', amqpComponent({ url: 'amqp://127.0.0.1' }))
    expect(() =>
      ctx.addRoutes((r) => {
        r.from(
          'amqp:queue:in?prefetch=50&durable=false&exclusive=true&autoDelete=true&passive=false&deadLetterExchange=dlx&deadLetterRoutingKey=dead&maxRedeliveries=3&contentType=json',
        )
          .to('amqp:exchange:out?routingKey=a.b&persistent=false&mandatory=true&exchangeType=topic')
          .to('amqp:queue:other?persistent=true&mandatory=false')
      }),
    ).not.toThrow()
  })
})

describe('amqpComponent options', () => {
  it.each<[string, AmqpComponentOptions]>([
    ['no url', { url: '' }],
    ['a non-AMQP url', { url: 'http://127.0.0.1:5672' }],
    ['a malformed url', { url: 'not a url' }],
    ['a negative heartbeat', { url: 'amqp://127.0.0.1', heartbeatSeconds: -1 }],
    ['a fractional reconnect delay', { url: 'amqp://127.0.0.1', reconnect: { initialDelayMs: 1.5 } }],
    ['an infinite max delay', { url: 'amqp://127.0.0.1', reconnect: { maxDelayMs: Infinity } }],
    ['a negative close timeout', { url: 'amqp://127.0.0.1', closeTimeoutMs: -5 }],
    ['a heartbeat above 65535 s', { url: 'amqp://127.0.0.1', heartbeatSeconds: 65_536 }],
    ['a headerFilter that is not an object', { url: 'amqp://127.0.0.1', headerFilter: 'none' as never }],
    [
      'a headerFilter.outbound that is not a function',
      { url: 'amqp://127.0.0.1', headerFilter: { outbound: true as never } },
    ],
    ['a fractional maxRetries', { url: 'amqp://127.0.0.1', reconnect: { maxRetries: 2.5 } }],
  ])('rejects %s with DROMEDARY_ERR_AMQP_INVALID_CONFIG', (_, options) => {
    expect(codeOf(() => amqpComponent(options))).toBe(AmqpErrorCodes.INVALID_CONFIG)
  })

  it('accepts unlimited reconnect attempts', () => {
    expect(() =>
      amqpComponent({
        url: 'amqps://user:pw@127.0.0.1/vh',
        reconnect: { maxRetries: Infinity },
        heartbeatSeconds: 0,
      }),
    ).not.toThrow()
  })
})

/** Every duration option of the component, as a function from a value to the options carrying it. */
const DURATION_OPTIONS: ReadonlyArray<[string, (value: unknown) => AmqpComponentOptions]> = [
  ['closeTimeoutMs', (v) => ({ url: 'amqp://127.0.0.1', closeTimeoutMs: v as number })],
  ['connectTimeoutMs', (v) => ({ url: 'amqp://127.0.0.1', connectTimeoutMs: v as number })],
  [
    'reconnect.initialDelayMs',
    (v) => ({ url: 'amqp://127.0.0.1', reconnect: { initialDelayMs: v as number } }),
  ],
  ['reconnect.maxDelayMs', (v) => ({ url: 'amqp://127.0.0.1', reconnect: { maxDelayMs: v as number } })],
]

/** What no duration option may be: not a finite integer number of ms from 0 to 2³¹−1. */
const badDurations = fc.oneof(
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, 0.5, 2 ** 31, 2 ** 32, 1e12, -0.0001),
  fc.double().filter((d) => !Number.isInteger(d) || d < 0 || d > MAX_DURATION_MS),
  fc.integer({ min: MAX_DURATION_MS + 1, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom('5000', '5s', null, true, {}, [], 10n),
)

describe('amqpComponent duration options', () => {
  it.each(DURATION_OPTIONS)(
    'refuses anything but an integer from 0 to 2147483647 ms for %s, naming it',
    (name, make) => {
      fc.assert(
        fc.property(badDurations, (value) => {
          let err: unknown
          try {
            amqpComponent(make(value))
          } catch (e) {
            err = e
          }
          expect(isDromedaryError(err, AmqpErrorCodes.INVALID_CONFIG)).toBe(true)
          expect((err as Error).message).toContain(`"${name}"`)
        }),
      )
    },
  )

  it.each(DURATION_OPTIONS)('accepts every integer from 0 to 2147483647 ms for %s', (_, make) => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(0, MAX_DURATION_MS), fc.integer({ min: 0, max: MAX_DURATION_MS })),
        (value) => {
          expect(() => amqpComponent(make(value))).not.toThrow()
        },
      ),
    )
  })
})
