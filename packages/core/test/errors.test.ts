import { describe, expect, it } from 'vitest'
import { CoreErrorCodes, DromedaryError, isDromedaryError } from '@dromedary/core'
import { errors } from '../src/errors.js'

describe('DromedaryError', () => {
  it('is an Error with a literal code, a message, a cause and the name DromedaryError', () => {
    const cause = new Error('root')
    const err = new DromedaryError('DROMEDARY_ERR_TEST', 'went wrong', { cause })
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('DROMEDARY_ERR_TEST')
    expect(err.message).toBe('went wrong')
    expect(err.cause).toBe(cause)
    expect(err.name).toBe('DromedaryError')
    expect(String(err)).toBe('DromedaryError: went wrong')
  })

  it('keeps a stack trace', () => {
    expect(new DromedaryError('DROMEDARY_ERR_TEST', 'x').stack).toContain('errors.test.ts')
  })
})

describe('isDromedaryError', () => {
  const err = new DromedaryError(CoreErrorCodes.QUEUE_FULL, 'full')

  it('recognises a DromedaryError', () => {
    expect(isDromedaryError(err)).toBe(true)
  })

  it('checks the code when given one', () => {
    expect(isDromedaryError(err, 'DROMEDARY_ERR_QUEUE_FULL')).toBe(true)
    expect(isDromedaryError(err, 'DROMEDARY_ERR_NO_CONSUMER')).toBe(false)
  })

  it('recognises an error from another copy of the package by its global brand', () => {
    // What a second copy of @dromedary/core would create: another class, the same Symbol.for brand.
    class OtherCopyError extends Error {
      readonly code = 'DROMEDARY_ERR_QUEUE_FULL'
      constructor() {
        super('from another copy')
        Object.defineProperty(this, Symbol.for('dromedary.error'), { value: true })
      }
    }
    const foreign = new OtherCopyError()
    expect(foreign).not.toBeInstanceOf(DromedaryError)
    expect(isDromedaryError(foreign)).toBe(true)
    expect(isDromedaryError(foreign, 'DROMEDARY_ERR_QUEUE_FULL')).toBe(true)
    expect(isDromedaryError(foreign, 'DROMEDARY_ERR_ABORTED')).toBe(false)
  })

  it('recognises a plain object carrying the brand', () => {
    const branded = { [Symbol.for('dromedary.error')]: true, code: 'DROMEDARY_ERR_X', message: 'm' }
    expect(isDromedaryError(branded, 'DROMEDARY_ERR_X')).toBe(true)
  })

  it('rejects look-alikes without the brand', () => {
    const lookAlike = Object.assign(new Error('x'), {
      code: 'DROMEDARY_ERR_QUEUE_FULL',
      name: 'DromedaryError',
    })
    expect(isDromedaryError(lookAlike)).toBe(false)
    expect(isDromedaryError({ [Symbol('dromedary.error')]: true, code: 'DROMEDARY_ERR_X' })).toBe(false)
    expect(isDromedaryError({ [Symbol.for('dromedary.error')]: 'yes' })).toBe(false)
  })

  it.each([null, undefined, 'DROMEDARY_ERR_QUEUE_FULL', 42, () => undefined])('is false for %p', (value) => {
    expect(isDromedaryError(value)).toBe(false)
  })
})

describe('CoreErrorCodes', () => {
  const entries = Object.entries(CoreErrorCodes)

  it('maps every key to DROMEDARY_ERR_<key>', () => {
    for (const [key, code] of entries) expect(code).toBe(`DROMEDARY_ERR_${key}`)
  })

  it('never reuses a code', () => {
    const codes = entries.map(([, code]) => code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('builds every error with a registered code', () => {
    const registered = new Set<string>(Object.values(CoreErrorCodes))
    const samples = [
      errors.invalidUri('r', 'x:y', 'why'),
      errors.unknownScheme('r', 'x:y', 'x'),
      errors.unknownOption('r', 'x:y', 'o', []),
      errors.invalidOption('r', 'x:y', 'o', 'v', 'a number'),
      errors.invalidRoute('r', 'why'),
      errors.duplicateRouteId('r'),
      errors.duplicateStartupOrder(1, 'a', 'b'),
      errors.duplicateConsumer('r', 'x:y'),
      errors.unknownWorkerGroup('r', 'g'),
      errors.notAConsumer('r', 'x:y'),
      errors.notAProducer('r', 'x:y'),
      errors.alreadyStarted('x'),
      errors.notStarted('x'),
      errors.unknownRoute('r'),
      errors.routeStartFailed('r', new Error('c')),
      errors.shuttingDown('x'),
      errors.shutdownFailed([new Error('a')]),
      errors.noConsumer('x:y'),
      errors.queueFull('x:y', 1),
      errors.unmarshal(new Error('c')),
      errors.marshal(new Error('c')),
      errors.aborted('why'),
      errors.mockNotSatisfied('m', 'detail'),
    ]
    for (const e of samples) {
      expect(e).toBeInstanceOf(DromedaryError)
      expect(registered.has(e.code)).toBe(true)
    }
  })

  it('has a factory named after every code (QUEUE_FULL → errors.queueFull)', () => {
    const camel = (key: string) => key.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    const missing = Object.keys(CoreErrorCodes).filter((key) => !(camel(key) in errors))
    expect(missing).toEqual([])
  })

  it('keeps the cause of wrapping errors', () => {
    const cause = new SyntaxError('bad')
    expect(errors.unmarshal(cause).cause).toBe(cause)
    expect(errors.routeStartFailed('r', cause).cause).toBe(cause)
    expect(errors.shutdownFailed([cause]).cause).toBeInstanceOf(AggregateError)
  })
})
