import type { Exchange, Producer } from '@dromedary/core'
import { errors, messageOf } from './errors.js'

/** Options of an outbound endpoint, taken from (and removed from) the URI's query. */
export interface HttpProducerOptions {
  /** Forces the method; otherwise header `http.method`, else POST with a body and GET without. */
  readonly httpMethod?: string
  /** Fail the exchange on a status outside 200–299. @default true */
  readonly throwExceptionOnFailure: boolean
  /** Abort the request after this many ms; 0 = only when the exchange is aborted. @default 0 */
  readonly timeout: number
}

/** Headers never forwarded: hop-by-hop, framing, and the ones fetch sets itself. */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
  'accept-encoding',
])
/** Valid HTTP header names without a dot: dotted names (`http.status`, `amqp.messageId`) are Dromedary's own. */
const TOKEN = /^[!#$%&'*+^_`|~0-9A-Za-z-]+$/
const JSON_CT = /^application\/(?:[\w.-]+\+)?json(?:;|$)/i
const TEXT_CT =
  /^(?:text\/|application\/(?:[\w.-]+\+)?xml(?:;|$)|application\/x-www-form-urlencoded|application\/javascript)/i

/**
 * `to('http://host/path')` / `https://…`: one request per exchange with Node's fetch (undici), aborted through
 * `exchange.signal`. The response status goes to header `http.status`, its `content-type` to `content-type`,
 * and its body (JSON parsed when the content type says so, text as a string, else a Buffer) becomes the body.
 */
export class HttpProducer implements Producer {
  readonly #url: string
  readonly #options: HttpProducerOptions

  constructor(url: string, options: HttpProducerOptions) {
    this.#url = url
    this.#options = options
  }

  async process(exchange: Exchange): Promise<void> {
    const message = exchange.message
    const method = this.#options.httpMethod ?? methodOf(message.headers['http.method'], message.body)
    const headers = outboundHeaders(message.headers)
    const body = method === 'GET' || method === 'HEAD' ? undefined : encodeBody(message.body, headers)
    const timeout = this.#options.timeout
    const signal =
      timeout > 0 ? AbortSignal.any([exchange.signal, AbortSignal.timeout(timeout)]) : exchange.signal
    let payload: unknown
    let response: Response
    try {
      response = await fetch(
        this.#url,
        body === undefined ? { method, headers, signal } : { method, headers, body, signal },
      )
      payload = await readBody(response, method)
    } catch (err) {
      throw errors.requestFailed(method, this.#url, err)
    }
    if (this.#options.throwExceptionOnFailure && (response.status < 200 || response.status > 299))
      throw errors.operationFailed(method, this.#url, response.status, payload)
    message.headers['http.status'] = response.status
    const type = response.headers.get('content-type')
    if (type === null) delete message.headers['content-type']
    else message.headers['content-type'] = type
    message.body = payload
  }
}

function methodOf(header: unknown, body: unknown): string {
  if (typeof header === 'string' && header !== '') return header.toUpperCase()
  return body === undefined || body === null ? 'GET' : 'POST'
}

function outboundHeaders(source: Readonly<Record<string, unknown>>): Headers {
  const out = new Headers()
  for (const [name, value] of Object.entries(source)) {
    if (!TOKEN.test(name) || NOT_FORWARDED.has(name.toLowerCase())) continue
    if (typeof value === 'string') out.append(name, value)
    else if (typeof value === 'number' || typeof value === 'boolean') out.append(name, String(value))
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') out.append(name, v)
  }
  return out
}

/** Strings and bytes as they are; anything else as JSON (with a JSON content type unless one is set). */
function encodeBody(body: unknown, headers: Headers): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') {
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain; charset=utf-8')
    return body
  }
  if (body instanceof Uint8Array) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/octet-stream')
    return body
  }
  const type = headers.get('content-type')
  if (type === null || !type.toLowerCase().includes('json')) headers.set('content-type', 'application/json')
  return JSON.stringify(body)
}

async function readBody(response: Response, method: string): Promise<unknown> {
  if (method === 'HEAD' || response.status === 204 || response.status === 304) {
    await response.body?.cancel()
    return null
  }
  const type = response.headers.get('content-type') ?? ''
  if (JSON_CT.test(type)) {
    const text = await response.text()
    if (text === '') return null
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      throw new Error(`the response body is not valid JSON: ${messageOf(err)}`, { cause: err })
    }
  }
  if (TEXT_CT.test(type)) return response.text()
  const bytes = Buffer.from(await response.arrayBuffer())
  return bytes.length === 0 ? null : bytes
}
