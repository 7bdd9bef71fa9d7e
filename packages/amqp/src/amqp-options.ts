import { MAX_DURATION_MS, type HeaderFilter } from '@dromedary/core'
import { validateTopology, type AmqpTopology } from './amqp-topology.js'
import { errors } from './errors.js'

/** Reconnect backoff, passed to amqplib's built-in recovery (exponential with jitter). */
export interface AmqpReconnectOptions {
  /** Delay before the first reconnect attempt (and before a cancelled consumer subscribes again), in ms. @default 100 */
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
  /** Heartbeat interval in seconds (0–65535); `0` disables heartbeats. @default the broker's proposal (60 on RabbitMQ) */
  heartbeatSeconds?: number
  /** Reconnect backoff after a connection loss. */
  reconnect?: AmqpReconnectOptions
  /** Connection name shown by RabbitMQ (`connection_name` client property). @default the context name */
  connectionName?: string
  /**
   * The longest wait on the broker during a stop, in ms: for cancel-ok, for channel and connection close-ok,
   * and for outstanding publisher confirms. A broker that stays silent longer gets its socket destroyed (it
   * requeues every unacknowledged message). The shutdown's own deadline ends these waits too. @default 5000
   */
  closeTimeoutMs?: number
  /** Bounds each connection attempt (TCP connect and AMQP handshake), in ms; `0` waits for ever. @default 10000 */
  connectTimeoutMs?: number
  /**
   * Which headers cross the broker boundary. The default lets every inbound application header into the
   * exchange and publishes only application headers: never `CC`, `BCC`, any `x-` header, or HTTP
   * hop-by-hop and credential headers. A filter decides instead of the default for the names it is asked
   * about; reserved names (`dromedary.`, `amqp.`, `http.`, `tkv.`) never cross.
   * @default the rules above
   */
  headerFilter?: HeaderFilter
  /** Exchanges, queues and bindings to declare at start and again after every reconnect. @default none */
  topology?: AmqpTopology
}

/** Options after validation, defaults applied. @internal */
export interface AmqpSettings {
  readonly url: string
  readonly heartbeatSeconds: number | undefined
  readonly connectionName: string | undefined
  readonly closeTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly reconnect: Required<AmqpReconnectOptions>
  readonly headerFilter: HeaderFilter | undefined
  readonly topology: AmqpTopology | undefined
}

const MAX_HEARTBEAT_SECONDS = 65_535

/** Validates `amqpComponent` options; throws DROMEDARY_ERR_AMQP_INVALID_CONFIG naming the option and value. @internal */
export function validateOptions(options: AmqpComponentOptions): AmqpSettings {
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
  const r: unknown = options.reconnect ?? {}
  if (typeof r !== 'object' || r === null) throw errors.invalidConfig('"reconnect" must be an object')
  const reconnect = r as AmqpReconnectOptions
  const filter: unknown = options.headerFilter
  if (filter !== undefined && (typeof filter !== 'object' || filter === null))
    throw errors.invalidConfig('"headerFilter" must be an object with optional inbound/outbound functions')
  for (const side of ['inbound', 'outbound'] as const) {
    const fn: unknown = (filter as Record<string, unknown> | undefined)?.[side]
    if (fn !== undefined && typeof fn !== 'function')
      throw errors.invalidConfig(`"headerFilter.${side}" must be a function`)
  }
  const name: unknown = options.connectionName
  if (name !== undefined && typeof name !== 'string')
    throw errors.invalidConfig('"connectionName" must be a string')
  return {
    url,
    heartbeatSeconds:
      options.heartbeatSeconds === undefined
        ? undefined
        : integer('heartbeatSeconds', options.heartbeatSeconds, MAX_HEARTBEAT_SECONDS, 'seconds'),
    connectionName: options.connectionName,
    closeTimeoutMs: duration('closeTimeoutMs', options.closeTimeoutMs, 5000),
    connectTimeoutMs: duration('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    reconnect: {
      initialDelayMs: duration('reconnect.initialDelayMs', reconnect.initialDelayMs, 100),
      maxDelayMs: duration('reconnect.maxDelayMs', reconnect.maxDelayMs, 30_000),
      maxRetries: retries('reconnect.maxRetries', reconnect.maxRetries, Infinity),
      initialMaxRetries: retries('reconnect.initialMaxRetries', reconnect.initialMaxRetries, 5),
    },
    headerFilter: filter,
    topology: validateTopology(options.topology),
  }
}

/** A duration: a finite integer number of ms from 0 to 2 147 483 647 (above it, Node's timers fire at once). */
function duration(option: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : integer(option, value, MAX_DURATION_MS, 'milliseconds')
}

function integer(option: string, value: unknown, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw errors.invalidConfig(
      `"${option}" has value ${describe(value)}, expected an integer number of ${unit} from 0 to ${max}`,
    )
  return value
}

function retries(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (value === Infinity) return value
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw errors.invalidConfig(
      `"${option}" has value ${describe(value)}, expected a non-negative integer or Infinity`,
    )
  return value
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value)
}
