// decodeEntry: entry fields → body and headers, the transport's own headers never overridden.
import { describe, expect, it } from 'vitest'
import { decodeEntry } from '../src/redis-fields.js'

const own = () => ({ 'redis.stream': 's', 'redis.id': '1-0', 'redis.group': 'g', 'redis.deliveryCount': 1 })

describe('decodeEntry', () => {
  it('makes the other fields headers, never the transport’s own or reserved ones', () => {
    const headers: Record<string, unknown> = own()
    const fields = ['body', '{"a":1}', 'content-type', 'application/json', 'tenant', 't1']
    fields.push('redis.id', 'forged', 'REDIS.group', 'forged', 'dromedary.x', 'forged', '__proto__', 'p')
    expect(decodeEntry(fields, 'auto', undefined, headers)).toEqual({ a: 1 })
    expect(headers).toEqual({ ...own(), tenant: 't1', ['__proto__']: 'p' })
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype)
  })

  it('without a body field, makes every field the body and adds no header', () => {
    const headers: Record<string, unknown> = own()
    const body = decodeEntry(['id', '7', 'total', '9.5', '__proto__', 'p'], 'auto', undefined, headers)
    expect(body).toEqual({ id: '7', total: '9.5', ['__proto__']: 'p' })
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype)
    expect(headers).toEqual(own())
    expect(Object.keys(headers)).toEqual(Object.keys(own()))
  })
})
