import type {
  Component,
  ComponentContext,
  Endpoint,
  EndpointUri,
  Logger,
  OptionSchema,
  OptionSpec,
} from '@dromedary/core'
import { errors } from './errors.js'
import { HttpConsumer, type HttpBinding } from './http-consumer.js'
import { HttpMetrics } from './http-metrics.js'
import { HttpProducer, type HttpProducerOptions } from './http-producer.js'
import { checkPath, HTTP_METHODS, normalize, type HttpMethod } from './http-router.js'
import { HttpServer, type HttpAddress } from './http-server.js'

/** Options of `httpComponent`. */
export interface HttpComponentOptions {
  /** Port of the inbound server (0 = an ephemeral port, see `address`). @default 8080 */
  port?: number
  /** Interface the inbound server binds to. @default '127.0.0.1' */
  host?: string
  /** Largest accepted request body in bytes; larger ones get 413. @default 1048576 (1 MiB) */
  bodyLimit?: number
  /** `Retry-After` of the 503 answers sent while shutting down, in seconds. @default 5 */
  retryAfterSeconds?: number
}

/** The `http` component: inbound routes on one fastify server per component, outbound requests with fetch. */
export interface HttpComponent extends Component {
  /** Where the inbound server listens once a route has started (with `port: 0`, the port the OS chose). */
  readonly address: HttpAddress | undefined
}

const INBOUND = {
  method: { type: 'enum', values: HTTP_METHODS, default: 'ANY' },
} as const satisfies OptionSchema

const OUTBOUND = {
  httpMethod: { type: 'enum', values: HTTP_METHODS.filter((m) => m !== 'ANY') },
  throwExceptionOnFailure: { type: 'boolean', default: true },
  timeout: { type: 'duration', default: 0 },
} as const satisfies OptionSchema

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * Creates the HTTP component (SPEC §6). `scheme:/path?method=GET` URIs are inbound routes served on
 * `host:port`; `http://host/path` and `https://host/path` URIs are outbound (register the component under
 * `https` too for the latter).
 * @example
 * ctx.addComponent('http', httpComponent({ port: 8080 }))
 * ctx.addRoutes((r) => r.from('http:/orders/:id?method=GET').routeId('order').process(loadOrder))
 */
export function httpComponent(options: HttpComponentOptions = {}): HttpComponent {
  return new DefaultHttpComponent(options)
}

class DefaultHttpComponent implements HttpComponent, HttpBinding {
  readonly #host: string
  readonly #port: number
  readonly #bodyLimit: number
  readonly #retryAfterSeconds: number
  readonly #consumers = new Set<HttpConsumer>()
  #logger: Logger | undefined
  #metrics: HttpMetrics | undefined
  #server: HttpServer | undefined
  #closed = false

  constructor(options: HttpComponentOptions) {
    this.#port = check(
      'port',
      options.port ?? 8080,
      (v) => Number.isInteger(v) && v >= 0 && v <= 65535,
      'an integer from 0 to 65535',
    )
    this.#host = check(
      'host',
      options.host ?? '127.0.0.1',
      (v) => typeof v === 'string' && v !== '',
      'a host name or address',
    )
    this.#bodyLimit = check(
      'bodyLimit',
      options.bodyLimit ?? 1024 * 1024,
      (v) => Number.isInteger(v) && v > 0,
      'a positive integer',
    )
    this.#retryAfterSeconds = check(
      'retryAfterSeconds',
      options.retryAfterSeconds ?? 5,
      (v) => Number.isInteger(v) && v >= 0,
      'a non-negative integer',
    )
  }

  get address(): HttpAddress | undefined {
    return this.#server?.address
  }

  get metrics(): HttpMetrics {
    return (this.#metrics ??= new HttpMetrics(undefined))
  }

  start(context: ComponentContext): void {
    this.#bind(context)
  }

  createEndpoint(uri: EndpointUri, context: ComponentContext): Endpoint {
    this.#bind(context)
    return ABSOLUTE.test(uri.uri) ? outboundEndpoint(uri) : this.#inboundEndpoint(uri)
  }

  async close(options: { forced: boolean }): Promise<void> {
    this.#closed = true
    await this.#server?.close(options)
  }

  // --- HttpBinding ---------------------------------------------------------------------------

  async attach(consumer: HttpConsumer): Promise<HttpServer> {
    if (this.#closed) throw errors.closed(`start route "${consumer.routeId}"`)
    const server = (this.#server ??= new HttpServer({
      host: this.#host,
      port: this.#port,
      bodyLimit: this.#bodyLimit,
      retryAfterSeconds: this.#retryAfterSeconds,
      logger: this.#logger ?? silent,
    }))
    const current = server.routeAt(consumer.method, consumer.path)
    if (current instanceof HttpConsumer && current !== consumer && current.state !== 'stopped')
      throw errors.duplicatePath(consumer.routeId, consumer.method, consumer.path, current.routeId)
    server.route(consumer.method, consumer.path, consumer)
    this.#consumers.add(consumer)
    await server.listen()
    return server
  }

  intakeChanged(): void {
    const server = this.#server
    if (server === undefined) return
    for (const c of this.#consumers) {
      if (c.accepting && server.routeAt(c.method, c.path) === c) return server.undrain()
    }
    server.drain()
  }

  // --- endpoints -----------------------------------------------------------------------------

  #bind(context: ComponentContext): void {
    this.#logger ??= context.logger
    this.#metrics ??= new HttpMetrics(context.metrics)
  }

  #inboundEndpoint(uri: EndpointUri): Endpoint {
    const { method } = uri.parseOptions(INBOUND)
    const why = checkPath(uri.path)
    if (why !== undefined) throw errors.invalidPath(uri.routeId, uri.uri, why)
    const path = normalize(uri.path)
    return {
      uri: uri.uri,
      createConsumer: (host) => new HttpConsumer(host, this, method as HttpMethod, path),
    }
  }
}

function outboundEndpoint(uri: EndpointUri): Endpoint {
  // The query belongs to the remote URL, except for the options of OUTBOUND.
  // No prototype: a query parameter named `__proto__` must stay a plain parameter (reliability fuzzing).
  const schema = Object.create(null) as Record<string, OptionSpec>
  for (const name of uri.params.keys()) schema[name] = { type: 'string' }
  const parsed = uri.parseOptions({ ...schema, ...OUTBOUND }) as unknown as {
    httpMethod?: string
    throwExceptionOnFailure: boolean
    timeout: number
  }
  const url = withoutOptions(uri.uri, Object.keys(OUTBOUND))
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    throw errors.invalidUrl(uri.routeId, uri.uri, 'not a valid URL')
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    throw errors.invalidUrl(uri.routeId, uri.uri, `protocol "${protocol}" is not http: or https:`)
  const options: HttpProducerOptions = {
    throwExceptionOnFailure: parsed.throwExceptionOnFailure,
    timeout: parsed.timeout,
    ...(parsed.httpMethod === undefined ? {} : { httpMethod: parsed.httpMethod }),
  }
  return { uri: uri.uri, createProducer: () => new HttpProducer(url, options) }
}

/** The URI without the query parameters named in `names` (the rest is passed on as written). */
function withoutOptions(uri: string, names: readonly string[]): string {
  const q = uri.indexOf('?')
  if (q === -1) return uri
  const kept = uri
    .slice(q + 1)
    .split('&')
    .filter((part) => {
      const eq = part.indexOf('=')
      return part !== '' && !names.includes(safeDecode(eq === -1 ? part : part.slice(0, eq)))
    })
  return kept.length === 0 ? uri.slice(0, q) : `${uri.slice(0, q)}?${kept.join('&')}`
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

function check<T>(name: string, value: T, ok: (v: T) => boolean, expected: string): T {
  if (!ok(value)) throw errors.invalidOptions(name, value, expected)
  return value
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }
