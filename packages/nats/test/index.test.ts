import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

describe('@dromedary/nats public API', () => {
  it('exports exactly the curated runtime values', () => {
    expect(Object.keys(api).sort()).toEqual(['NatsErrorCodes', 'natsComponent'])
  })

  it('uses DROMEDARY_ERR_NATS_ codes, none of them twice', () => {
    const codes = Object.values(api.NatsErrorCodes)
    expect(codes.every((c) => c.startsWith('DROMEDARY_ERR_NATS_'))).toBe(true)
    expect(new Set(codes).size).toBe(codes.length)
  })
})
