import {
  validateDuration,
  type Component,
  type ComponentContext,
  type Endpoint,
  type EndpointUri,
  type HeaderFilter,
  type StopOptions,
} from '@dromedary/core'
import { RedisConnection } from './redis-connection.js'
import { createRedisEndpoint } from './redis-endpoint.js'
import { RedisMetrics } from './redis-metrics.js'
import { errors } from './errors.js'

/** Options of `redisComponent`. */
export interface RedisComponentOptions {
  /** `redis://[user:password@]host:6379[/db]` or `rediss://…`. Credentials never appear in logs or errors. @default 'redis://127.0.0.1:6379' */
  url?: string
  /** Client name (`CLIENT SETNAME`) shown by `CLIENT LIST`. @default the context name */
  name?: string
  /** How long a connection attempt may take, in ms. @default 5000 */
  connectTimeoutMs?: number
  /** Reconnect backoff after a connection loss (exponential, doubling). */
  reconnect?: {
    /** Delay before the first reconnect attempt, in ms. @default 100 */
    initialDelayMs?: number
    /** Upper bound of the backoff, in ms. @default 5000 */
    maxDelayMs?: number
  }
  /**
   * Which entry fields become headers and which headers become fields (Camel `HeaderFilterStrategy`).
   * Default: everything except the reserved namespaces, `redis.*`, `body`, `content-type` and, outbound, HTTP
   * hop-by-hop and credential headers.
   * @default the rule above
   */
  headerFilter?: HeaderFilter
  /** Without a shutdown deadline (`StopOptions.signal`), how long `close()` may wait for replies before closing hard, in ms. @default 5000 */
  closeTimeoutMs?: number
}

type Settings = {
  readonly url: string
  readonly name: string | undefined
  readonly connectTimeoutMs: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly headerFilter: HeaderFilter | undefined
  readonly closeTimeoutMs: number
}

type ComponentState = 'created' | 'starting' | 'started' | 'closing' | 'closed'

/**
 * The `redis:` component: one command connection per component (acks, claims, `XADD`), plus one blocking
 * connection per consumer.
 * @example ctx.addComponent('redis', redisComponent({ url: 'redis://127.0.0.1:6379' }))
 */
export function redisComponent(options: RedisComponentOptions = {}): Component {
  return new RedisComponent(validateComponentOptions(options))
}

class RedisComponent implements Component {
  readonly #settings: Settings
  #state: ComponentState = 'created'
  #connection: RedisConnection | undefined = undefined
  #metrics: RedisMetrics | undefined = undefined
  #closing: Promise<void> | undefined = undefined

  constructor(settings: Settings) {
    this.#settings = settings
  }

  createEndpoint(uri: EndpointUri, context: ComponentContext): Endpoint {
    this.#metrics ??= new RedisMetrics(context.metrics)
    return createRedisEndpoint(uri, {
      connection: () => this.#requireConnection(),
      metrics: () => this.#metrics!,
      headerFilter: this.#settings.headerFilter,
    })
  }

  async start(context: ComponentContext): Promise<void> {
    if (this.#state !== 'created') return
    this.#state = 'starting'
    this.#metrics ??= new RedisMetrics(context.metrics)
    const s = this.#settings
    try {
      this.#connection = await RedisConnection.open({
        url: s.url,
        name: s.name ?? context.name,
        connectTimeoutMs: s.connectTimeoutMs,
        reconnectInitialDelayMs: s.initialDelayMs,
        reconnectMaxDelayMs: s.maxDelayMs,
        logger: context.logger,
        onReconnect: () => this.#metrics?.reconnected(),
      })
    } catch (err) {
      this.#state = 'created'
      throw err
    }
    this.#state = 'started'
  }

  /** Called at NOW after every route stopped: closes after pending replies; hard when forced or `signal` aborts. */
  close(options: StopOptions): Promise<void> {
    this.#closing ??= this.#close(options)
    return this.#closing
  }

  async #close(options: StopOptions): Promise<void> {
    this.#state = 'closing'
    const signal = options.forced
      ? AbortSignal.abort(new Error('forced'))
      : (options.signal ?? AbortSignal.timeout(this.#settings.closeTimeoutMs))
    await this.#connection?.close(signal)
    this.#state = 'closed'
  }

  #requireConnection(): RedisConnection {
    if (this.#connection === undefined || this.#state === 'closed')
      throw errors.notStarted('use a Redis endpoint')
    return this.#connection
  }
}

/** Validates the connection options shared by the component and the idempotent repository. @internal */
export function validateComponentOptions(options: RedisComponentOptions): Settings {
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig('options object required')
  const url = options.url ?? 'redis://127.0.0.1:6379'
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    throw errors.invalidConfig('"url" is not a valid URL')
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:')
    throw errors.invalidConfig(`"url" must start with redis:// or rediss:// (got "${protocol}")`)
  if (options.name !== undefined && typeof options.name !== 'string')
    throw errors.invalidConfig('"name" must be a string')
  const f = options.headerFilter
  if (f !== undefined && (typeof f !== 'object' || f === null))
    throw errors.invalidConfig('"headerFilter" must be an object with inbound/outbound functions')
  const r = options.reconnect ?? {}
  return {
    url,
    name: options.name,
    connectTimeoutMs: duration('connectTimeoutMs', options.connectTimeoutMs, 5000, 1),
    initialDelayMs: duration('reconnect.initialDelayMs', r.initialDelayMs, 100, 1),
    maxDelayMs: duration('reconnect.maxDelayMs', r.maxDelayMs, 5000, 1),
    headerFilter: f,
    closeTimeoutMs: duration('closeTimeoutMs', options.closeTimeoutMs, 5000, 0),
  }
}

function duration(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  try {
    return validateDuration(name, value, min)
  } catch (err) {
    throw errors.invalidConfig(err instanceof Error ? err.message : String(err))
  }
}
