import {
  validateDuration,
  type Component,
  type ComponentContext,
  type Endpoint,
  type EndpointUri,
  type HeaderFilter,
  type Logger,
  type StopOptions,
} from '@dromedary/core'
import { NatsConnectionHandle } from './nats-connection.js'
import { createNatsEndpoint } from './nats-endpoint.js'
import { NatsMetrics } from './nats-metrics.js'
import { errors } from './errors.js'

/** Options of `natsComponent`. */
export interface NatsComponentOptions {
  /** Server(s), `host:port` or `nats://host:port`. @default '127.0.0.1:4222' */
  servers?: string | readonly string[]
  /** User name (with `pass`). */
  user?: string
  /** Password (with `user`). Never logged. */
  pass?: string
  /** Authentication token. Never logged. */
  token?: string
  /** Client name shown by the server's monitoring. @default the context name */
  name?: string
  /** How long the first connection may take before `ctx.start()` fails, in ms. @default 5000 */
  connectTimeoutMs?: number
  /** Delay between reconnect attempts, in ms. @default 2000 */
  reconnectTimeWaitMs?: number
  /** Reconnect attempts per server before giving up; `-1` never gives up. @default -1 */
  maxReconnectAttempts?: number
  /**
   * Which headers cross the wire (Camel `HeaderFilterStrategy`). Default: every header except the reserved
   * namespaces, `nats.*`, `Nats-*` and, outbound, HTTP hop-by-hop and credential headers.
   * @default the rule above
   */
  headerFilter?: HeaderFilter
  /** Without a shutdown deadline (`StopOptions.signal`), how long `close()` may drain before closing hard, in ms. @default 5000 */
  closeTimeoutMs?: number
}

type Settings = {
  readonly servers: readonly string[]
  readonly user: string | undefined
  readonly pass: string | undefined
  readonly token: string | undefined
  readonly name: string | undefined
  readonly connectTimeoutMs: number
  readonly reconnectTimeWaitMs: number
  readonly maxReconnectAttempts: number
  readonly headerFilter: HeaderFilter | undefined
  readonly closeTimeoutMs: number
}

type ComponentState = 'created' | 'starting' | 'started' | 'closing' | 'closed'

/**
 * The `nats:` component: one connection per component, shared by its consumers (JetStream pull consumers)
 * and producers (JetStream publish, core request/reply).
 * @example ctx.addComponent('nats', natsComponent({ servers: '127.0.0.1:4222' }))
 */
export function natsComponent(options: NatsComponentOptions = {}): Component {
  return new NatsComponent(validate(options))
}

class NatsComponent implements Component {
  readonly #settings: Settings
  #state: ComponentState = 'created'
  #connection: NatsConnectionHandle | undefined = undefined
  #metrics: NatsMetrics | undefined = undefined
  #logger: Logger | undefined = undefined
  #closing: Promise<void> | undefined = undefined

  constructor(settings: Settings) {
    this.#settings = settings
  }

  /** Unhealthy once the client gave up reconnecting: not ready. */
  healthy(): boolean {
    return this.#connection?.gaveUp !== true
  }

  createEndpoint(uri: EndpointUri, context: ComponentContext): Endpoint {
    this.#bind(context)
    return createNatsEndpoint(uri, {
      connection: () => this.#requireConnection(),
      metrics: () => this.#metrics!,
      headerFilter: this.#settings.headerFilter,
    })
  }

  async start(context: ComponentContext): Promise<void> {
    if (this.#state !== 'created') return
    this.#state = 'starting'
    this.#bind(context)
    const s = this.#settings
    try {
      this.#connection = await NatsConnectionHandle.open({
        servers: s.servers,
        user: s.user,
        pass: s.pass,
        token: s.token,
        name: s.name ?? context.name,
        connectTimeoutMs: s.connectTimeoutMs,
        reconnectTimeWaitMs: s.reconnectTimeWaitMs,
        maxReconnectAttempts: s.maxReconnectAttempts,
        logger: context.logger,
        onReconnect: () => this.#metrics?.reconnected(),
      })
    } catch (err) {
      this.#state = 'created'
      throw err
    }
    this.#state = 'started'
  }

  /**
   * Called at NOW after every route stopped: drains the connection (acks and publishes reach the server), then
   * closes it; closes hard at once when forced or when `signal` aborts.
   */
  close(options: StopOptions): Promise<void> {
    this.#closing ??= this.#close(options)
    return this.#closing
  }

  async #close(options: StopOptions): Promise<void> {
    this.#state = 'closing'
    const connection = this.#connection
    if (connection !== undefined) {
      const signal = options.forced
        ? AbortSignal.abort(new Error('forced'))
        : (options.signal ?? AbortSignal.timeout(this.#settings.closeTimeoutMs))
      await connection.close(signal)
    }
    this.#state = 'closed'
  }

  #bind(context: ComponentContext): void {
    this.#logger ??= context.logger
    this.#metrics ??= new NatsMetrics(context.metrics)
  }

  #requireConnection(): NatsConnectionHandle {
    if (this.#connection === undefined || this.#state === 'closed')
      throw errors.notStarted('use a NATS endpoint')
    if (this.#connection.isClosed) throw errors.connectionClosed(this.#connection.target)
    return this.#connection
  }
}

function validate(options: NatsComponentOptions): Settings {
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig('options object required')
  const raw = options.servers ?? '127.0.0.1:4222'
  const servers = typeof raw === 'string' ? [raw] : [...raw]
  if (servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.trim() === ''))
    throw errors.invalidConfig('"servers" must be a non-empty host:port string or a list of them')
  for (const key of ['user', 'pass', 'token', 'name'] as const) {
    const v = options[key]
    if (v !== undefined && typeof v !== 'string') throw errors.invalidConfig(`"${key}" must be a string`)
  }
  const f = options.headerFilter
  if (f !== undefined && (typeof f !== 'object' || f === null))
    throw errors.invalidConfig('"headerFilter" must be an object with inbound/outbound functions')
  const attempts = options.maxReconnectAttempts ?? -1
  if (!Number.isInteger(attempts) || attempts < -1)
    throw errors.invalidConfig('"maxReconnectAttempts" must be an integer, -1 for no limit')
  return {
    servers,
    user: options.user,
    pass: options.pass,
    token: options.token,
    name: options.name,
    connectTimeoutMs: duration('connectTimeoutMs', options.connectTimeoutMs, 5000, 1),
    reconnectTimeWaitMs: duration('reconnectTimeWaitMs', options.reconnectTimeWaitMs, 2000, 0),
    maxReconnectAttempts: attempts,
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
