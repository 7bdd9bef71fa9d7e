import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

describe('@dromedary/amqp public API', () => {
  it('exports exactly the curated runtime values', () => {
    expect(Object.keys(api).sort()).toEqual(['AmqpErrorCodes', 'amqpComponent', 'defaultAmqpHeaderFilter'])
  })

  it('uses DROMEDARY_ERR_AMQP_ codes, none of them twice', () => {
    const codes = Object.values(api.AmqpErrorCodes)
    expect(codes.every((c) => c.startsWith('DROMEDARY_ERR_AMQP_'))).toBe(true)
    expect(new Set(codes).size).toBe(codes.length)
  })
})
