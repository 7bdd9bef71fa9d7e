import { describe, expect, it } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import { parseOptions } from '../../src/uri/options.js'
import { parseUri } from '../../src/uri/uri.js'

const E = CoreErrorCodes

function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn()
  } catch (err) {
    if (err instanceof Error) return err
  }
  throw new Error('expected a throw')
}

describe('parseUri', () => {
  it('splits scheme, path and options', () => {
    const u = parseUri('r', 'seda:orders?concurrentConsumers=4&size=10')
    expect(u.scheme).toBe('seda')
    expect(u.path).toBe('orders')
    expect([...u.params]).toEqual([
      ['concurrentConsumers', '4'],
      ['size', '10'],
    ])
    expect(u.uri).toBe('seda:orders?concurrentConsumers=4&size=10')
    expect(u.routeId).toBe('r')
  })

  it('lower-cases the scheme and keeps the path as written', () => {
    const u = parseUri('r', 'SEDA:Orders')
    expect(u.scheme).toBe('seda')
    expect(u.path).toBe('Orders')
  })

  it('drops the leading slashes of scheme://path', () => {
    expect(parseUri('r', 'seda://orders').path).toBe('orders')
  })

  it('keeps the path of a multi-part URI', () => {
    expect(parseUri('r', 'amqp:queue:orders?prefetch=5').path).toBe('queue:orders')
  })

  it('decodes percent-encoded option names and values', () => {
    expect(parseUri('r', 'x:y?routing%20key=a%2Fb').params.get('routing key')).toBe('a/b')
  })

  it('treats an option without = as an empty value and ignores empty pairs', () => {
    expect([...parseUri('r', 'x:y?flag&&a=1').params]).toEqual([
      ['flag', ''],
      ['a', '1'],
    ])
  })

  it.each([
    ['', 'empty URI'],
    ['no-scheme-here', 'expected "scheme:path"'],
    ['1x:y', 'expected "scheme:path"'],
    ['x:y?a=1&a=2', 'option "a" given twice'],
    ['x:y?=1', 'empty option name'],
    ['x:y?a=%E0%A4%A', 'bad percent-encoding'],
  ])('rejects %j with DROMEDARY_ERR_INVALID_URI (%s)', (uri, why) => {
    const err = errorOf(() => parseUri('route-7', uri))
    expect(isDromedaryError(err, E.INVALID_URI)).toBe(true)
    expect(err.message).toContain('"route-7"')
    expect(err.message).toContain(why)
  })
})

describe('parseOptions', () => {
  const schema = {
    count: { type: 'number', default: 1, min: 1, integer: true },
    ratio: { type: 'number' },
    wait: { type: 'duration', default: 1000 },
    on: { type: 'boolean', default: false },
    name: { type: 'string' },
    mode: { type: 'enum', values: ['fast', 'safe'], default: 'safe' },
  } as const
  const parse = (query: string) => parseUri('r', `x:y?${query}`).parseOptions(schema)

  it('fills in defaults and leaves options without one out', () => {
    expect(parse('')).toEqual({ count: 1, wait: 1000, on: false, mode: 'safe' })
  })

  it('parses numbers, booleans, strings and enum values', () => {
    expect(parse('count=3&ratio=0.5&on=true&name=abc&mode=fast')).toEqual({
      count: 3,
      ratio: 0.5,
      wait: 1000,
      on: true,
      name: 'abc',
      mode: 'fast',
    })
  })

  it.each([
    ['250', 250],
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ])('reads the duration %s as %d ms', (raw, ms) => {
    expect(parse(`wait=${raw}`).wait).toBe(ms)
  })

  it.each([
    ['count=abc', 'a number'],
    ['count=', 'a number'],
    ['count=1.5', 'an integer'],
    ['count=0', 'a number >= 1'],
    ['wait=soon', 'a duration'],
    ['wait=-5', 'a duration'],
    ['on=yes', 'true or false'],
    ['mode=slow', 'one of fast | safe'],
  ])('rejects %s with DROMEDARY_ERR_INVALID_OPTION (expected %s)', (query, expected) => {
    const err = errorOf(() => parse(query))
    expect(isDromedaryError(err, E.INVALID_OPTION)).toBe(true)
    const [name, value] = query.split('=') as [string, string]
    expect(err.message).toContain(`"r"`)
    expect(err.message).toContain(`"x:y?${query}"`)
    expect(err.message).toContain(`"${name}"`)
    expect(err.message).toContain(`"${value}"`)
    expect(err.message).toContain(expected)
  })

  it('rejects an unknown option with DROMEDARY_ERR_UNKNOWN_OPTION listing the known ones', () => {
    const err = errorOf(() => parse('cnt=1'))
    expect(isDromedaryError(err, E.UNKNOWN_OPTION)).toBe(true)
    expect(err.message).toContain('"cnt"')
    expect(err.message).toContain('known: count, ratio, wait, on, name, mode')
  })

  it('treats names of Object.prototype members as unknown options, not as schema entries', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const err = errorOf(() => parse(`${name}=1`))
      expect(isDromedaryError(err, E.UNKNOWN_OPTION)).toBe(true)
      expect(err.message).toContain(`"${name}"`)
    }
  })

  it('says so when a component takes no options at all', () => {
    const err = errorOf(() => parseOptions('r', 'x:y?a=1', new Map([['a', '1']]), {}))
    expect(err.message).toContain('known: none')
  })
})
