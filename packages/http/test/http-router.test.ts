import { describe, expect, it } from 'vitest'
import { checkPath, HttpRouter } from '../src/http-router.js'

describe('HttpRouter', () => {
  it('prefers a static path over a :param one and decodes params', () => {
    const router = new HttpRouter<string>()
    router.set('GET', '/orders/:id', 'one')
    router.set('GET', '/orders/latest', 'latest')
    expect(router.find('GET', '/orders/latest')).toEqual({ value: 'latest', params: {} })
    expect(router.find('GET', '/orders/a%2Fb')).toEqual({ value: 'one', params: { id: 'a/b' } })
    expect(router.find('GET', '/orders/')).toBeUndefined()
    expect(router.find('GET', '/orders/1/x')).toBeUndefined()
  })

  it('falls back from HEAD to GET and from any method to ANY, and ignores a trailing slash', () => {
    const router = new HttpRouter<string>()
    router.set('GET', '/a/', 'get')
    router.set('ANY', '/b', 'any')
    expect(router.find('HEAD', '/a')?.value).toBe('get')
    expect(router.find('DELETE', '/b/')?.value).toBe('any')
    expect(router.find('POST', '/a')).toBeUndefined()
    expect(router.allowed('/a')).toEqual(['GET'])
  })

  it('treats /x/:a and /x/:b as the same shape', () => {
    const router = new HttpRouter<string>()
    expect(router.set('PUT', '/x/:a', 'first')).toBeUndefined()
    expect(router.get('PUT', '/x/:b')).toBe('first')
    expect(router.set('PUT', '/x/:b', 'second')).toBe('first')
    expect(router.find('PUT', '/x/1')).toEqual({ value: 'second', params: { b: '1' } })
  })

  it('rejects bad paths', () => {
    expect(checkPath('/ok/:id')).toBeUndefined()
    expect(checkPath('/a//b')).toContain('empty')
    expect(checkPath('/a/:')).toContain('bad parameter')
    expect(checkPath('/a/:x/:x')).toContain('twice')
  })
})
