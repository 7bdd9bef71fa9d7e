import { createContext, isDromedaryError } from '@dromedary/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NatsErrorCodes, natsComponent } from '../src/index.js'

/** The error `addRoutes` throws for a route consuming or producing `uri`, or undefined. */
function routeError(uri: string, role: 'from' | 'to'): unknown {
  const ctx = createContext({ logger: false })
  ctx.addComponent('nats', natsComponent())
  try {
    void ctx.addRoutes((r) => (role === 'from' ? r.from(uri).to('mock:x') : r.from('direct:x').to(uri)))
    return undefined
  } catch (err) {
    return err
  }
}

describe('nats endpoint URIs', () => {
  it.each([
    ['nats:stream:ORDERS', 'consumer'],
    ['nats:stream:OR.DERS?consumer=c', 'stream name'],
    ['nats:stream:ORDERS?consumer=a.b', 'consumer'],
    ['nats:queue:ORDERS', 'expected'],
    ['nats:stream:ORDERS?consumer=c&batch=20000', 'batch'],
    ['nats:stream:ORDERS?consumer=c&deadLetterSubject=dlq.*', 'deadLetterSubject'],
    ['nats:stream:ORDERS?consumer=c&filterSubject=a..b', 'filterSubject'],
  ])('refuses %s with DROMEDARY_ERR_NATS_INVALID_ENDPOINT naming %s', (uri, part) => {
    const err = routeError(uri, 'from')
    expect(isDromedaryError(err, NatsErrorCodes.INVALID_ENDPOINT)).toBe(true)
    expect((err as Error).message).toContain(part)
  })

  it.each(['nats:subject:a..b', 'nats:subject:orders.*', 'nats:request:', 'nats:subject:has space'])(
    'refuses the producer URI %s',
    (uri) => {
      expect(isDromedaryError(routeError(uri, 'to'), NatsErrorCodes.INVALID_ENDPOINT)).toBe(true)
    },
  )

  it('refuses every duration option that is not a whole number of ms in range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ackWaitMs', 'nakDelayMs', 'expiresMs'),
        fc.constantFrom('-1', 'NaN', '1.5', String(2 ** 32), 'soon', ''),
        (option, value) => {
          const err = routeError(`nats:stream:S?consumer=c&${option}=${encodeURIComponent(value)}`, 'from')
          expect(isDromedaryError(err, 'DROMEDARY_ERR_INVALID_OPTION')).toBe(true)
        },
      ),
    )
  })

  it.each(['0', '-1', 'NaN', '1.5'])('refuses %s for batch and maxDeliveries', (value) => {
    for (const option of ['batch', 'maxDeliveries'])
      expect(isDromedaryError(routeError(`nats:stream:S?consumer=c&${option}=${value}`, 'from'))).toBe(true)
  })

  it('accepts a consumer URI with every option', () => {
    expect(
      routeError(
        'nats:stream:ORDERS?consumer=w&batch=50&ackWaitMs=10s&maxDeliveries=3&deadLetterSubject=dlq.orders&nakDelayMs=250&expiresMs=2000&filterSubject=orders.*.created&deliverPolicy=new&create=false&contentType=json',
        'from',
      ),
    ).toBeUndefined()
  })
})

describe('natsComponent options', () => {
  it.each([
    [{ servers: [] }, 'servers'],
    [{ servers: '' }, 'servers'],
    [{ connectTimeoutMs: Number.NaN }, 'connectTimeoutMs'],
    [{ reconnectTimeWaitMs: -1 }, 'reconnectTimeWaitMs'],
    [{ closeTimeoutMs: 2 ** 32 }, 'closeTimeoutMs'],
    [{ maxReconnectAttempts: 1.5 }, 'maxReconnectAttempts'],
    [{ headerFilter: 'all' }, 'headerFilter'],
  ])('refuses %j with DROMEDARY_ERR_NATS_INVALID_CONFIG', (options, part) => {
    let err: unknown
    try {
      natsComponent(options as never)
    } catch (e) {
      err = e
    }
    expect(isDromedaryError(err, NatsErrorCodes.INVALID_CONFIG)).toBe(true)
    expect((err as Error).message).toContain(part)
  })
})
