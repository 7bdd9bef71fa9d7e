import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

describe('@dromedary/redis public API', () => {
  it('exports exactly the curated runtime values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'RedisErrorCodes',
      'redisComponent',
      'redisIdempotentRepository',
    ])
  })

  it('uses DROMEDARY_ERR_REDIS_ codes, none of them twice', () => {
    const codes = Object.values(api.RedisErrorCodes)
    expect(codes.every((c) => c.startsWith('DROMEDARY_ERR_REDIS_'))).toBe(true)
    expect(new Set(codes).size).toBe(codes.length)
  })
})
