import type { IncomingHttpHeaders } from 'node:http'

/** `application/json` and every `application/…+json` type, parameters allowed (fastify lower-cases the type). */
export const JSON_MEDIA_TYPE = /^application\/(?:[\w!#$%&'*+.^`|~-]+\+)?json\s*(?:;|$)/

/** True when a request announces a body (fastify reads one only then). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length']
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** Bodies parsed from `application/x-www-form-urlencoded`, so a reader can tell them from JSON objects. */
const forms = new WeakSet<object>()

/** An urlencoded form as an object; a key given more than once becomes an array. */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k]
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  forms.add(out)
  return out
}

/** True for a body that came from a form, whose values are all strings (a JSON body's have their own types). */
export function isFormBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && forms.has(body)
}
