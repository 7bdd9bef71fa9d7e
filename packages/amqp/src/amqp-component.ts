import type { Component, ComponentContext, Endpoint, EndpointUri, Logger } from '@dromedary/core'
import { AmqpConnection } from './amqp-connection.js'
import { createAmqpEndpoint } from './amqp-endpoint.js'
import { AmqpMetrics } from './amqp-metrics.js'
import { errors } from './errors.js'
import { IdleLatch } from './idle-latch.js'

/** Reconnect backoff, passed to amqplib's built-in recovery (exponential with jitter). */
export interface AmqpReconnectOptions {
  /** Delay before the first reconnect attempt, in ms. @default 100 */
  initialDelayMs?: number
  /** Upper bound of the backoff, in ms. @default 30000 */
  maxDelayMs?: number
  /** Reconnect attempts after a connection loss before giving up; `Infinity` never gives up. @default Infinity */
  maxRetries?: number
  /** Retries of the first connection before `ctx.start()` fails (fail fast on a wrong URL). @default 5 */
  initialMaxRetries?: number
}

/** Options of `amqpComponent`. */
export interface AmqpComponentOptions {
  /** Broker URL, `amqp://user:password@host:5672/vhost` or `amqps://…`. */
  url: string
  /** Heartbeat interval in seconds; `0` disables heartbeats. @default the broker's proposal (60 on RabbitMQ) */
  heartbeatSeconds?: number
  /** Reconnect backoff after a connection loss. */
  reconnect?: AmqpReconnectOptions
  /** Connection name shown by RabbitMQ (`connection_name` client property). @default the context name */
  connectionName?: string
  /** At close, how long to wait for outstanding publisher confirms before closing anyway, in ms. @default 5000 */
  closeTimeoutMs?: number
}

type ComponentState = 'created' | 'starting' | 'started' | 'closing' | 'closed'

/**
 * The `amqp:` component: one recovering connection per component, shared by its consumers (one channel
 * each) and producers (one confirm channel each).
 * @example ctx.addComponent('amqp', amqpComponent({ url: 'amqp://guest:guest@127.0.0.1:5672' }))
 */
export function amqpComponent(options: AmqpComponentOptions): Component {
  return new AmqpComponent(validate(options))
}

type Settings = Required<Omit<AmqpComponentOptions, 'reconnect' | 'heartbeatSeconds' | 'connectionName'>> & {
  readonly heartbeatSeconds: number | undefined
  readonly connectionName: string | undefined
  readonly reconnect: Required<AmqpReconnectOptions>
}

class AmqpComponent implements Component {
  readonly #settings: Settings
  readonly #unconfirmed = new IdleLatch()
  #state: ComponentState = 'created'
  #connection: AmqpConnection | undefined = undefined
  #metrics: AmqpMetrics | undefined = undefined
  #logger: Logger | undefined = undefined
  #closing: Promise<void> | undefined = undefined

  constructor(settings: Settings) {
    this.#settings = settings
  }

  /** Unhealthy once the connection's recovery gave up (`reconnect.maxRetries` exhausted): not ready. */
  healthy(): boolean {
    return this.#connection?.gaveUp !== true
  }

  createEndpoint(uri: EndpointUri, context: ComponentContext): Endpoint {
    this.#bind(context)
    return createAmqpEndpoint(uri, {
      connection: () => this.#requireConnection(),
      metrics: () => this.#metrics!,
      unconfirmed: this.#unconfirmed,
    })
  }

  async start(context: ComponentContext): Promise<void> {
    if (this.#state !== 'created') return
    this.#state = 'starting'
    this.#bind(context)
    const s = this.#settings
    const connection = new AmqpConnection({
      url: s.url,
      heartbeatSeconds: s.heartbeatSeconds,
      initialDelayMs: s.reconnect.initialDelayMs,
      maxDelayMs: s.reconnect.maxDelayMs,
      maxRetries: s.reconnect.maxRetries,
      initialMaxRetries: s.reconnect.initialMaxRetries,
      connectionName: s.connectionName ?? context.name,
      logger: context.logger,
      onReconnect: () => this.#metrics?.reconnected(),
    })
    try {
      await connection.open()
    } catch (err) {
      this.#state = 'created'
      throw err
    }
    this.#connection = connection
    this.#state = 'started'
  }

  /** Called at NOW after every route stopped: waits for outstanding confirms (unless forced), then closes. */
  close(options: { forced: boolean }): Promise<void> {
    this.#closing ??= this.#close(options.forced)
    return this.#closing
  }

  async #close(forced: boolean): Promise<void> {
    this.#state = 'closing'
    const connection = this.#connection
    if (connection !== undefined && !forced && this.#unconfirmed.count > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.#unconfirmed.whenIdle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.#settings.closeTimeoutMs)
          timer.unref()
        }),
      ])
      clearTimeout(timer)
      const left = this.#unconfirmed.count
      if (left > 0) {
        this.#logger?.warn(
          { connection: connection.target, unconfirmed: left },
          `Closing the AMQP connection with ${left} publish(es) still unconfirmed after ${this.#settings.closeTimeoutMs} ms; their exchanges fail`,
        )
      }
    }
    await connection?.close()
    this.#state = 'closed'
  }

  #bind(context: ComponentContext): void {
    this.#logger ??= context.logger
    this.#metrics ??= new AmqpMetrics(context.metrics)
  }

  #requireConnection(): AmqpConnection {
    if (this.#connection === undefined || this.#state === 'closed') {
      throw errors.notStarted('use an AMQP endpoint')
    }
    return this.#connection
  }
}

function validate(options: AmqpComponentOptions): Settings {
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig('options object required')
  const { url } = options
  if (typeof url !== 'string' || url === '') throw errors.invalidConfig('"url" is required')
  let protocol: string
  try {
    protocol = new URL(url).protocol
  } catch {
    throw errors.invalidConfig('"url" is not a valid URL')
  }
  if (protocol !== 'amqp:' && protocol !== 'amqps:') {
    throw errors.invalidConfig(`"url" must start with amqp:// or amqps:// (got "${protocol}")`)
  }
  const r = options.reconnect ?? {}
  return {
    url,
    heartbeatSeconds: count('heartbeatSeconds', options.heartbeatSeconds, undefined, false),
    connectionName: options.connectionName,
    closeTimeoutMs: count('closeTimeoutMs', options.closeTimeoutMs, 5000, false),
    reconnect: {
      initialDelayMs: count('reconnect.initialDelayMs', r.initialDelayMs, 100, false),
      maxDelayMs: count('reconnect.maxDelayMs', r.maxDelayMs, 30_000, false),
      maxRetries: count('reconnect.maxRetries', r.maxRetries, Infinity, true),
      initialMaxRetries: count('reconnect.initialMaxRetries', r.initialMaxRetries, 5, true),
    },
  }
}

function count<T extends number | undefined>(
  name: string,
  value: number | undefined,
  fallback: T,
  infinite: boolean,
): number | T {
  if (value === undefined) return fallback
  const ok = value === Infinity ? infinite : Number.isInteger(value) && value >= 0
  if (!ok)
    throw errors.invalidConfig(`"${name}" must be a non-negative integer${infinite ? ' or Infinity' : ''}`)
  return value
}
