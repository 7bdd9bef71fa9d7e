import { createContext, isDromedaryError } from '@dromedary/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RedisErrorCodes, redisComponent } from '../src/index.js'

/** The error `addRoutes` throws for a route consuming or producing `uri`, or undefined. */
function routeError(uri: string, role: 'from' | 'to'): unknown {
  const ctx = createContext({ logger: false })
  ctx.addComponent('redis', redisComponent())
  try {
    void ctx.addRoutes((r) => (role === 'from' ? r.from(uri).to('mock:x') : r.from('direct:x').to(uri)))
    return undefined
  } catch (err) {
    return err
  }
}

describe('redis endpoint URIs', () => {
  it.each([
    ['redis:stream:orders', 'group'],
    ['redis:list:orders?group=g', 'expected'],
    ['redis:stream:?group=g', 'empty'],
    ['redis:stream:orders?group=g&batch=20000', 'batch'],
    ['redis:stream:orders?group=g&startId=latest', 'startId'],
    ['redis:stream:orders?group=a%20b', 'whitespace'],
  ])('refuses %s with DROMEDARY_ERR_REDIS_INVALID_ENDPOINT naming %s', (uri, part) => {
    const err = routeError(uri, 'from')
    expect(isDromedaryError(err, RedisErrorCodes.INVALID_ENDPOINT)).toBe(true)
    expect((err as Error).message).toContain(part)
  })

  it('refuses every duration option that is not a whole number of ms in range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('blockMs', 'minIdleMs', 'claimIntervalMs'),
        fc.constantFrom('-1', 'NaN', '1.5', String(2 ** 32), 'soon', '', '0'),
        (option, value) => {
          const err = routeError(`redis:stream:s?group=g&${option}=${encodeURIComponent(value)}`, 'from')
          expect(isDromedaryError(err, 'DROMEDARY_ERR_INVALID_OPTION')).toBe(true)
        },
      ),
    )
  })

  it.each(['0', '-1', 'NaN', '1.5'])('refuses %s for batch, maxDeliveries and maxLen', (value) => {
    for (const option of ['batch', 'maxDeliveries'])
      expect(isDromedaryError(routeError(`redis:stream:s?group=g&${option}=${value}`, 'from'))).toBe(true)
    expect(isDromedaryError(routeError(`redis:stream:s?maxLen=${value}`, 'to'))).toBe(true)
  })

  it('refuses producer options on a consumer URI and consumer options on a producer URI', () => {
    expect(
      isDromedaryError(
        routeError('redis:stream:s?group=g&maxLen=10', 'from'),
        'DROMEDARY_ERR_UNKNOWN_OPTION',
      ),
    ).toBe(true)
    expect(isDromedaryError(routeError('redis:stream:s?group=g', 'to'), 'DROMEDARY_ERR_UNKNOWN_OPTION')).toBe(
      true,
    )
  })

  it('accepts a consumer URI with every option', () => {
    expect(
      routeError(
        'redis:stream:orders?group=workers&consumer=w1&batch=50&blockMs=5s&minIdleMs=30s&claimIntervalMs=1s&maxDeliveries=3&deadLetterStream=orders.dlq&startId=$&createGroup=false&contentType=json',
        'from',
      ),
    ).toBeUndefined()
  })
})

describe('redisComponent options', () => {
  it.each([
    [{ url: 'http://x' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ connectTimeoutMs: Number.NaN }, 'connectTimeoutMs'],
    [{ reconnect: { initialDelayMs: -1 } }, 'reconnect.initialDelayMs'],
    [{ reconnect: { maxDelayMs: 2 ** 32 } }, 'reconnect.maxDelayMs'],
    [{ closeTimeoutMs: 1.5 }, 'closeTimeoutMs'],
    [{ headerFilter: 'all' }, 'headerFilter'],
  ])('refuses %j with DROMEDARY_ERR_REDIS_INVALID_CONFIG', (options, part) => {
    let err: unknown
    try {
      redisComponent(options as never)
    } catch (e) {
      err = e
    }
    expect(isDromedaryError(err, RedisErrorCodes.INVALID_CONFIG)).toBe(true)
    expect((err as Error).message).toContain(part)
  })
})
