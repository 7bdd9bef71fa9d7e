import type {
  Component,
  ComponentContext,
  Endpoint,
  EndpointUri,
  Logger,
  OptionSchema,
  OptionSpec,
  StopOptions,
} from '@dromedary/core'
import { errors } from './errors.js'
import { HttpConsumer, type HttpBinding } from './http-consumer.js'
import { HttpMetrics } from './http-metrics.js'
import { resolveHttpOptions, type HttpComponentOptions, type ResolvedHttpOptions } from './http-options.js'
import { HttpProducer, type HttpProducerOptions } from './http-producer.js'
import { checkPath, HTTP_METHODS, normalize, type HttpMethod } from './http-router.js'
import { HttpServer, type HttpAddress } from './http-server.js'
import { redactUrl } from './redact-url.js'

export type { HttpComponentOptions } from './http-options.js'

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
  maxResponseBytes: { type: 'number', integer: true, min: 1 },
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
  readonly #options: ResolvedHttpOptions
  readonly #consumers = new Set<HttpConsumer>()
  #logger: Logger | undefined
  #metrics: HttpMetrics | undefined
  #server: HttpServer | undefined
  #closed = false

  constructor(options: HttpComponentOptions) {
    this.#options = resolveHttpOptions(options)
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
    return ABSOLUTE.test(uri.uri) ? outboundEndpoint(uri, this.#options) : this.#inboundEndpoint(uri)
  }

  /** Closes the inbound server (see `HttpServer.close`); once `options.signal` aborts, every socket is destroyed. */
  async close(options: StopOptions): Promise<void> {
    this.#closed = true
    await this.#server?.close(options)
  }

  // --- HttpBinding ---------------------------------------------------------------------------

  async attach(consumer: HttpConsumer): Promise<HttpServer> {
    if (this.#closed) throw errors.closed(`start route "${consumer.routeId}"`)
    const o = this.#options
    const server = (this.#server ??= new HttpServer({
      host: o.host,
      port: o.port,
      bodyLimit: o.bodyLimit,
      retryAfterSeconds: o.retryAfterSeconds,
      requestTimeoutMs: o.requestTimeoutMs,
      headersTimeoutMs: o.headersTimeoutMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
      headerFilter: o.headerFilter,
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

function outboundEndpoint(uri: EndpointUri, component: ResolvedHttpOptions): Endpoint {
  // The query belongs to the remote URL, except for the options of OUTBOUND.
  // No prototype: a query parameter named `__proto__` must stay a plain parameter (reliability fuzzing).
  const schema = Object.create(null) as Record<string, OptionSpec>
  for (const name of uri.params.keys()) schema[name] = { type: 'string' }
  const parsed = uri.parseOptions({ ...schema, ...OUTBOUND }) as unknown as {
    httpMethod?: string
    throwExceptionOnFailure: boolean
    timeout: number
    maxResponseBytes?: number
  }
  const url = withoutOptions(uri.uri, Object.keys(OUTBOUND))
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    throw errors.invalidUrl(uri.routeId, redactUrl(uri.uri), 'not a valid URL')
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    throw errors.invalidUrl(uri.routeId, redactUrl(uri.uri), `protocol "${protocol}" is not http: or https:`)
  const options: HttpProducerOptions = {
    throwExceptionOnFailure: parsed.throwExceptionOnFailure,
    timeout: parsed.timeout,
    maxResponseBytes: parsed.maxResponseBytes ?? component.maxResponseBytes,
    headerFilter: component.headerFilter,
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

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }
