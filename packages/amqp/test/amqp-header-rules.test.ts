import { isReservedHeader, UNSAFE_FORWARD_HEADERS } from '@dromedary/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AmqpHeaderRules } from '../src/amqp-headers.js'
import { defaultAmqpHeaderFilter } from '../src/index.js'

/** Header names as hostile input: reserved namespaces, broker and HTTP names in any case, and noise. */
const names = fc
  .oneof(
    fc
      .constantFrom('dromedary.', 'amqp.', 'http.', 'tkv.', 'x-', 'X-')
      .chain((p) => fc.string({ maxLength: 8 }).map((rest) => p + rest)),
    fc.constantFrom('CC', 'cc', 'BCC', 'Bcc', 'x-delivery-count', 'x-death', 'x-dead-letter-exchange'),
    fc.constantFrom(...UNSAFE_FORWARD_HEADERS).map((n) => (n.length % 2 === 0 ? n.toUpperCase() : n)),
    fc.string({ maxLength: 12 }),
  )
  .filter((name) => name !== '__proto__')
const headerSets = fc.dictionary(names, fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)), {
  maxKeys: 12,
})

const crossesByDefault = (name: string) => {
  const lower = name.toLowerCase()
  return !(
    isReservedHeader(name) ||
    lower.startsWith('x-') ||
    lower === 'cc' ||
    lower === 'bcc' ||
    UNSAFE_FORWARD_HEADERS.has(lower)
  )
}

describe('amqp header rules', () => {
  it('never lets a reserved name in, even when the filter accepts everything', () => {
    const rules = new AmqpHeaderRules({ inbound: () => true })
    fc.assert(
      fc.property(headerSets, (headers) => {
        const out = rules.inbound(headers)
        expect(Object.keys(out).filter(isReservedHeader)).toEqual([])
        for (const name of Object.keys(headers))
          if (!isReservedHeader(name)) expect(out).toHaveProperty([name])
      }),
    )
  })

  it('publishes by default exactly the application headers that are not broker, x-, hop-by-hop or credential names', () => {
    const rules = new AmqpHeaderRules(undefined)
    fc.assert(
      fc.property(headerSets, (headers) => {
        const expected = Object.keys(headers).filter((n) => headers[n] !== undefined && crossesByDefault(n))
        expect(Object.keys(rules.outbound(headers)).sort()).toEqual(expected.sort())
      }),
    )
  })

  it('lets a filter publish x- and CC headers on purpose, never reserved ones', () => {
    const rules = new AmqpHeaderRules({ outbound: () => true })
    fc.assert(
      fc.property(headerSets, (headers) => {
        const out = rules.outbound(headers)
        const expected = Object.keys(headers).filter((n) => headers[n] !== undefined && !isReservedHeader(n))
        expect(Object.keys(out).sort()).toEqual(expected.sort())
      }),
    )
  })

  it('drops what an inbound filter refuses and keeps its this', () => {
    const filter = {
      secret: 'password',
      inbound(this: { secret: string }, name: string) {
        return name !== this.secret
      },
    }
    const out = new AmqpHeaderRules(filter).inbound({
      password: 'x',
      tenant: 'acme',
      'http.method': 'DELETE',
    })
    expect(out).toEqual({ tenant: 'acme' })
  })

  it('never copies an own __proto__ key into the exchange headers', () => {
    const headers = JSON.parse('{"__proto__": {"polluted": true}, "tenant": "acme"}') as Record<
      string,
      unknown
    >
    const inbound = new AmqpHeaderRules(undefined).inbound(headers)
    expect(Object.getPrototypeOf(inbound)).toBe(Object.prototype)
    expect(inbound).toEqual({ tenant: 'acme' })
    expect(Object.keys(new AmqpHeaderRules(undefined).outbound(headers))).toEqual(['tenant'])
  })

  it('exports the default rules for composing a filter of your own', () => {
    expect(defaultAmqpHeaderFilter.outbound('tenant', 'acme')).toBe(true)
    expect(defaultAmqpHeaderFilter.outbound('x-request-id', 'r-1')).toBe(false)
    expect(defaultAmqpHeaderFilter.inbound('x-death', [])).toBe(true)
  })
})
