import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, startHttp, type Running } from './support.js'

let running: Running
let last: unknown
beforeAll(async () => {
  running = await startHttp((r) =>
    r
      .from('http:/in?method=POST')
      .process((ex) => void (last = ex.message.body))
      .setBody((ex) => ({ kind: Buffer.isBuffer(ex.message.body) ? 'buffer' : typeof ex.message.body })),
  )
})
afterAll(async () => {
  await running.ctx.stop({ timeoutMs: 5000 })
})

const post = (contentType: string, body: string) =>
  send(running.port, 'POST', '/in', { headers: { 'content-type': contentType }, body })

/** A random RFC 9110 token for media subtypes and parameter names. */
const token = fc.stringMatching(/^[a-z0-9][a-z0-9.!#$&^_-]{0,15}$/)
/** `; name=value` parameters, with and without spaces, quoted or not. */
const params = fc
  .array(
    fc.tuple(token, fc.stringMatching(/^[a-z0-9-]{1,8}$/), fc.boolean(), fc.constantFrom(';', '; ', ' ;  ')),
    { maxLength: 3 },
  )
  .map((ps) => ps.map(([k, v, quoted, sep]) => `${sep}${k}=${quoted ? `"${v}"` : v}`).join(''))
const upperSome = (s: string, mask: number) =>
  [...s].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('')

describe('request bodies', () => {
  it('parses application/vnd.api+json; charset=utf-8 as JSON', async () => {
    const a = await post('application/vnd.api+json; charset=utf-8', '{"data":{"id":"1"}}')
    expect(a.status).toBe(200)
    expect(a.json).toEqual({ kind: 'object' })
    expect(last).toEqual({ data: { id: '1' } })
  })

  it('parses every application/json and application/…+json type, any case, any parameters, as JSON (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(token, { nil: undefined }),
        params,
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.jsonValue(),
        async (subtype, ps, mask, value) => {
          const type = upperSome(`application/${subtype === undefined ? '' : `${subtype}+`}json`, mask) + ps
          const a = await post(type, JSON.stringify(value))
          expect(a.status, type).toBe(200)
          // JSON has no -0; parsing gives 0 back.
          expect(last, type).toEqual(JSON.parse(JSON.stringify(value)))
        },
      ),
      { numRuns: 80 },
    )
  })

  it('answers bad JSON of any JSON type with 400 problem+json (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(token, { nil: undefined }),
        params,
        fc.constantFrom('{"broken": ', '{', "{'a':1}", 'nul', '[1,]', '{"__proto__": {"x": 1}}'),
        async (subtype, ps, body) => {
          const type = `application/${subtype === undefined ? '' : `${subtype}+`}json${ps}`
          const a = await post(type, body)
          expect(a.status, `${type} ${body}`).toBe(400)
          expect(a.headers['content-type']).toMatch(/^application\/problem\+json/)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('does not take look-alike types for JSON', async () => {
    for (const type of [
      'application/jsonl',
      'application/json-seq',
      'text/json',
      'application/x-json-stream',
    ])
      expect((await post(type, '{"a":1}')).json, type).not.toEqual({ kind: 'object' })
  })
})
