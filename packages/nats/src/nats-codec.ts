import { errors } from './errors.js'

/** How a consumer (or a request's reply) turns message data into the exchange body. */
export type NatsContentType = 'auto' | 'json' | 'text' | 'binary'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i
const EMPTY = new Uint8Array(0)
const utf8 = new TextDecoder('utf-8', { fatal: false })
const encoder = new TextEncoder()

/**
 * Message data → body. `auto` follows the `Content-Type` header: JSON for `application/json` and `*+json`, a
 * string for `text/*`, otherwise a `Buffer`. Throws (the caller wraps it) on bad JSON.
 * @internal
 */
export function decodeBody(
  data: Uint8Array,
  contentType: string | undefined,
  mode: NatsContentType,
): unknown {
  switch (mode) {
    case 'binary':
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    case 'text':
      return utf8.decode(data)
    case 'json':
      return JSON.parse(utf8.decode(data))
    case 'auto':
      if (contentType === undefined || contentType === '')
        return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      if (JSON_TYPE.test(contentType)) return JSON.parse(utf8.decode(data))
      if (contentType.startsWith('text/')) return utf8.decode(data)
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  }
}

/**
 * Body → message data and its `Content-Type`: bytes as they are, a string as UTF-8 (`text/plain`), `undefined`
 * as no data, anything else as JSON (a body without a JSON form fails with DROMEDARY_ERR_NATS_ENCODE).
 * @internal
 */
export function encodeBody(
  body: unknown,
  where: string,
): { data: Uint8Array; contentType: string | undefined } {
  if (body instanceof Uint8Array) return { data: body, contentType: 'application/octet-stream' }
  if (typeof body === 'string')
    return { data: encoder.encode(body), contentType: 'text/plain; charset=utf-8' }
  if (body === undefined) return { data: EMPTY, contentType: undefined }
  let json: string | undefined
  try {
    json = JSON.stringify(body)
  } catch (err) {
    throw errors.encode(where, err)
  }
  if (json === undefined) throw errors.encode(where, new TypeError(`a ${typeof body} has no JSON form`))
  return { data: encoder.encode(json), contentType: 'application/json' }
}
