import { isReservedHeader, UNSAFE_FORWARD_HEADERS, type HeaderFilter } from '@dromedary/core'
import type { RedisArg } from './redis-connection.js'
import { errors } from './errors.js'

/** How a consumer turns an entry's `body` field into the exchange body. */
export type RedisContentType = 'auto' | 'json' | 'text' | 'binary'

/** The field that carries the body. */
export const BODY_FIELD = 'body'
/** The field that says what the body is. */
export const CONTENT_TYPE_FIELD = 'content-type'
/** The field that says the body is base64 text (binary bodies). */
export const CONTENT_ENCODING_FIELD = 'content-encoding'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/**
 * Names this transport never passes between entry fields and exchange headers, whatever the filter: core's
 * reserved namespaces, its own `redis.` namespace, and the `body`, `content-type` and `content-encoding` fields.
 */
function isTransportOwned(name: string): boolean {
  if (isReservedHeader(name)) return true
  const lower = name.toLowerCase()
  return (
    lower.startsWith('redis.') ||
    lower === BODY_FIELD ||
    lower === CONTENT_TYPE_FIELD ||
    lower === CONTENT_ENCODING_FIELD
  )
}

/**
 * An entry's fields → its body, with its headers added to `headers`. With a `body` field: the body is that field
 * (decoded per `mode`; `auto` follows the `content-type` field: JSON, text, else a Buffer; no `content-type` →
 * text; `content-encoding: base64` → the bytes it encodes) and every other field is a header, filtered. Without
 * one (an entry written by hand, `XADD s * id 7 total 9.5`): the body is an object of all fields as strings and
 * no header is added. Throws (the caller wraps it) on bad JSON.
 * @internal
 */
export function decodeEntry(
  fields: readonly string[],
  mode: RedisContentType,
  filter: HeaderFilter | undefined,
  headers: Record<string, unknown>,
): unknown {
  let body: string | undefined
  let contentType: string | undefined
  let base64 = false
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!
    const value = fields[i + 1]!
    if (name === BODY_FIELD) body = value
    else if (name === CONTENT_TYPE_FIELD) contentType = value
    else if (name === CONTENT_ENCODING_FIELD) base64 = value === 'base64'
    else if (isTransportOwned(name) || (filter?.inbound !== undefined && !filter.inbound(name, value)))
      continue
    else if (name === '__proto__') define(headers, name, value)
    else headers[name] = value
  }
  if (body === undefined) {
    // Every field is the body: take back the headers added above (the transport's own are never fields).
    for (const name in headers) if (!isTransportOwned(name)) delete headers[name]
    const all: Record<string, string> = {}
    for (let i = 0; i + 1 < fields.length; i += 2) define(all, fields[i]!, fields[i + 1]!)
    return all
  }
  return decodeBody(body, contentType, base64, mode)
}

function decodeBody(
  data: string,
  contentType: string | undefined,
  base64: boolean,
  mode: RedisContentType,
): unknown {
  if (base64) {
    const bytes = Buffer.from(data, 'base64')
    if (mode === 'binary' || (mode === 'auto' && !isJson(contentType) && !contentType?.startsWith('text/')))
      return bytes
    data = bytes.toString('utf8')
  }
  switch (mode) {
    case 'binary':
      return Buffer.from(data, 'utf8')
    case 'text':
      return data
    case 'json':
      return JSON.parse(data)
    case 'auto':
      if (isJson(contentType)) return JSON.parse(data)
      if (contentType === undefined || contentType.startsWith('text/')) return data
      return Buffer.from(data, 'utf8')
  }
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_TYPE.test(contentType)
}

/**
 * Body and headers → `XADD` field arguments: `body` (bytes as base64, with `content-encoding: base64`),
 * `content-type` (when known), then each header the filter
 * lets through (default: none of the transport's own names, no HTTP hop-by-hop or credential header), as text
 * (objects as JSON). A body without a JSON form fails with DROMEDARY_ERR_REDIS_ENCODE.
 * @internal
 */
export function encodeEntry(
  body: unknown,
  headers: Record<string, unknown>,
  filter: HeaderFilter | undefined,
  where: string,
): RedisArg[] {
  const out: RedisArg[] = [BODY_FIELD]
  if (body instanceof Uint8Array) {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    out.push(
      bytes.toString('base64'),
      CONTENT_TYPE_FIELD,
      'application/octet-stream',
      CONTENT_ENCODING_FIELD,
      'base64',
    )
  } else if (typeof body === 'string') {
    out.push(body, CONTENT_TYPE_FIELD, 'text/plain; charset=utf-8')
  } else if (body === undefined) {
    out.push('')
  } else {
    let json: string | undefined
    try {
      json = JSON.stringify(body)
    } catch (err) {
      throw errors.encode(where, err)
    }
    if (json === undefined) throw errors.encode(where, new TypeError(`a ${typeof body} has no JSON form`))
    out.push(json, CONTENT_TYPE_FIELD, 'application/json')
  }
  for (const name in headers) {
    if (!Object.hasOwn(headers, name) || isTransportOwned(name)) continue
    const value = headers[name]
    const allowed =
      filter?.outbound === undefined
        ? !UNSAFE_FORWARD_HEADERS.has(name.toLowerCase())
        : filter.outbound(name, value)
    if (!allowed) continue
    const text = fieldText(value)
    if (text !== undefined) out.push(name, text)
  }
  return out
}

function fieldText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'object':
      if (value === null) return undefined
      if (value instanceof Date) return value.toISOString()
      try {
        return JSON.stringify(value)
      } catch {
        return undefined
      }
    default:
      return undefined
  }
}

// Own keys only: a field named `__proto__` must stay a field, not become a prototype.
function define(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true })
}
