import type { Exchange, HeaderFilter, Producer } from '@dromedary/core'
import { errors } from './errors.js'
import { outboundHeaders } from './outbound-headers.js'
import { injectRequestTraceHeaders } from './trace-headers.js'
import { redactUrl } from './redact-url.js'
import { BodyTooLarge, readBody } from './response-body.js'

/** Options of an outbound endpoint, taken from (and removed from) the URI's query. */
export interface HttpProducerOptions {
  /** Forces the method; otherwise header `http.method`, else POST with a body and GET without. */
  readonly httpMethod?: string
  /** Fail the exchange on a status outside 200–299. @default true */
  readonly throwExceptionOnFailure: boolean
  /** Abort the request after this many ms; 0 = only when the exchange is aborted. @default 0 */
  readonly timeout: number
  /** Largest response body read, in bytes. @default the component's `maxResponseBytes` (10 MiB) */
  readonly maxResponseBytes: number
  /** Which exchange headers are sent (reserved and framing names never are). @default the component's */
  readonly headerFilter: HeaderFilter | undefined
}

/**
 * `to('http://host/path')` / `https://…`: one request per exchange with Node's fetch (undici), aborted through
 * `exchange.signal` (the response body too). The response status goes to header `http.status`, its
 * `content-type` to `content-type`, and its body (JSON parsed when the content type says so, text as a string,
 * else a Buffer; at most `maxResponseBytes`) becomes the body. Errors name the URL redacted.
 */
export class HttpProducer implements Producer {
  /** The URL requested: without credentials, which travel as `Authorization: Basic` instead (fetch refuses them). */
  readonly #url: string
  /** The URL for errors and logs: credentials and query values replaced by `***`. */
  readonly #shown: string
  readonly #basicAuth: string | undefined
  readonly #options: HttpProducerOptions

  constructor(url: string, options: HttpProducerOptions) {
    const u = new URL(url)
    this.#basicAuth =
      u.username === '' && u.password === ''
        ? undefined
        : `Basic ${Buffer.from(`${decode(u.username)}:${decode(u.password)}`).toString('base64')}`
    u.username = ''
    u.password = ''
    this.#url = this.#basicAuth === undefined ? url : u.href
    this.#shown = redactUrl(url)
    this.#options = options
  }

  async process(exchange: Exchange): Promise<void> {
    const message = exchange.message
    const options = this.#options
    const method = options.httpMethod ?? methodOf(message.headers['http.method'], message.body)
    const headers = outboundHeaders(message.headers, options.headerFilter)
    if (this.#basicAuth !== undefined) headers.set('authorization', this.#basicAuth)
    injectRequestTraceHeaders(exchange, headers)
    const body = method === 'GET' || method === 'HEAD' ? undefined : encodeBody(message.body, headers)
    const timeout = options.timeout
    const signal =
      timeout > 0 ? AbortSignal.any([exchange.signal, AbortSignal.timeout(timeout)]) : exchange.signal
    let payload: unknown
    let response: Response
    try {
      response = await fetch(
        this.#url,
        body === undefined ? { method, headers, signal } : { method, headers, body, signal },
      )
      payload = await readBody(response, method, options.maxResponseBytes)
    } catch (err) {
      if (err instanceof BodyTooLarge)
        throw errors.responseTooLarge(method, this.#shown, options.maxResponseBytes)
      throw errors.requestFailed(method, this.#shown, err, this.#url)
    }
    if (options.throwExceptionOnFailure && (response.status < 200 || response.status > 299))
      throw errors.operationFailed(method, this.#shown, response.status, payload)
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

function decode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
