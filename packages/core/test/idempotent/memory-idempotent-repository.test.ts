import { describe, expect, it } from 'vitest'
import { CoreErrorCodes, memoryIdempotentRepository } from '@dromedary/core'

describe('memoryIdempotentRepository', () => {
  it('adds a key once: the second add reports a duplicate', () => {
    const repo = memoryIdempotentRepository()
    expect(repo.add('a')).toBe(true)
    expect(repo.add('a')).toBe(false)
    expect(repo.contains('a')).toBe(true)
  })

  it('forgets the least recently used key beyond maxSize', () => {
    const repo = memoryIdempotentRepository({ maxSize: 2 })
    repo.add('a')
    repo.add('b')
    repo.contains('a') // a is now more recent than b
    repo.add('c')
    expect(repo.contains('b')).toBe(false)
    expect(repo.contains('a')).toBe(true)
    expect(repo.contains('c')).toBe(true)
    expect(repo.size).toBe(2)
  })

  it('counts a duplicate add as a use', () => {
    const repo = memoryIdempotentRepository({ maxSize: 2 })
    repo.add('a')
    repo.add('b')
    repo.add('a')
    repo.add('c')
    expect([repo.contains('a'), repo.contains('b')]).toEqual([true, false])
  })

  it('removes and clears keys', () => {
    const repo = memoryIdempotentRepository()
    repo.add('a')
    repo.add('b')
    repo.remove('a')
    expect(repo.contains('a')).toBe(false)
    repo.clear()
    expect(repo.size).toBe(0)
  })

  it('answers synchronously', () => {
    const repo = memoryIdempotentRepository()
    expect(typeof repo.add('a')).toBe('boolean')
    expect(repo.remove('a')).toBeUndefined()
  })

  it.each([0, -1, 1.5, Number.NaN, Infinity, 2 ** 32 + 1, '10'])(
    'refuses maxSize %s with DROMEDARY_ERR_INVALID_OPTION',
    (maxSize) => {
      expect(() => memoryIdempotentRepository({ maxSize: maxSize as number })).toThrow(
        expect.objectContaining({ code: CoreErrorCodes.INVALID_OPTION }),
      )
    },
  )
})
