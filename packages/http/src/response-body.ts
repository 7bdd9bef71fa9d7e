import { messageOf } from './errors.js'

const JSON_CT = /^application\/(?:[\w.-]+\+)?json(?:\s*;|\s*$)/i
const TEXT_CT =
  /^(?:text\/|application\/(?:[\w.-]+\+)?xml(?:\s*;|\s*$)|application\/x-www-form-urlencoded|application\/javascript)/i

/** Thrown by `readBody` when the body is larger than its limit (the producer turns it into its error). */
export class BodyTooLarge extends Error {
  override get name(): string {
    return 'BodyTooLarge'
  }
}

/**
 * Reads a fetch response body of at most `limit` bytes: refused at once when `Content-Length` says it is larger,
 * else streamed and cancelled the moment it exceeds the limit (the rest is never buffered). JSON is parsed, text
 * (text, XML, forms, JavaScript) decoded as UTF-8, anything else returned as a Buffer; an empty body, a 204, a 304
 * and a HEAD answer are `null`.
 */
export async function readBody(response: Response, method: string, limit: number): Promise<unknown> {
  const stream = response.body
  if (method === 'HEAD' || response.status === 204 || response.status === 304 || stream === null) {
    await stream?.cancel()
    return null
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > limit) {
    await stream.cancel()
    throw new BodyTooLarge()
  }
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = stream.getReader() as ReadableStreamDefaultReader<Uint8Array>
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new BodyTooLarge()
    }
    chunks.push(value)
  }
  const bytes = Buffer.concat(chunks, size)
  const type = response.headers.get('content-type') ?? ''
  if (JSON_CT.test(type)) {
    if (bytes.length === 0) return null
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown
    } catch (err) {
      throw new Error(`the response body is not valid JSON: ${messageOf(err)}`, { cause: err })
    }
  }
  if (TEXT_CT.test(type)) return bytes.toString('utf8')
  return bytes.length === 0 ? null : bytes
}
