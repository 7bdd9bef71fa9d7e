/**
 * The error registry of `@dromedary/core`: one base class, literal codes, and small typed factories.
 * Every code here is listed in `docs/errors.md`; a test keeps the two in step.
 */

const BRAND = Symbol.for('dromedary.error')

/** Every error code `@dromedary/core` can raise. */
export const CoreErrorCodes = {
  // configuration
  INVALID_URI: 'DROMEDARY_ERR_INVALID_URI',
  UNKNOWN_SCHEME: 'DROMEDARY_ERR_UNKNOWN_SCHEME',
  UNKNOWN_OPTION: 'DROMEDARY_ERR_UNKNOWN_OPTION',
  INVALID_OPTION: 'DROMEDARY_ERR_INVALID_OPTION',
  INVALID_ROUTE: 'DROMEDARY_ERR_INVALID_ROUTE',
  DUPLICATE_ROUTE_ID: 'DROMEDARY_ERR_DUPLICATE_ROUTE_ID',
  DUPLICATE_STARTUP_ORDER: 'DROMEDARY_ERR_DUPLICATE_STARTUP_ORDER',
  DUPLICATE_CONSUMER: 'DROMEDARY_ERR_DUPLICATE_CONSUMER',
  UNKNOWN_WORKER_GROUP: 'DROMEDARY_ERR_UNKNOWN_WORKER_GROUP',
  NOT_A_CONSUMER: 'DROMEDARY_ERR_NOT_A_CONSUMER',
  NOT_A_PRODUCER: 'DROMEDARY_ERR_NOT_A_PRODUCER',
  // lifecycle
  ALREADY_STARTED: 'DROMEDARY_ERR_ALREADY_STARTED',
  NOT_STARTED: 'DROMEDARY_ERR_NOT_STARTED',
  UNKNOWN_ROUTE: 'DROMEDARY_ERR_UNKNOWN_ROUTE',
  ROUTE_START_FAILED: 'DROMEDARY_ERR_ROUTE_START_FAILED',
  INVALID_STATE: 'DROMEDARY_ERR_INVALID_STATE',
  SHUTTING_DOWN: 'DROMEDARY_ERR_SHUTTING_DOWN',
  SHUTDOWN_FAILED: 'DROMEDARY_ERR_SHUTDOWN_FAILED',
  // exchanges
  NO_CONSUMER: 'DROMEDARY_ERR_NO_CONSUMER',
  QUEUE_FULL: 'DROMEDARY_ERR_QUEUE_FULL',
  UNMARSHAL: 'DROMEDARY_ERR_UNMARSHAL',
  MARSHAL: 'DROMEDARY_ERR_MARSHAL',
  ABORTED: 'DROMEDARY_ERR_ABORTED',
  MOCK_NOT_SATISFIED: 'DROMEDARY_ERR_MOCK_NOT_SATISFIED',
  IDEMPOTENT_KEY: 'DROMEDARY_ERR_IDEMPOTENT_KEY',
} as const

/** A code of `@dromedary/core`. */
export type CoreErrorCode = (typeof CoreErrorCodes)[keyof typeof CoreErrorCodes]

/** The base of every error Dromedary raises; `code` is a literal `DROMEDARY_ERR_…` string. */
export class DromedaryError<TCode extends string = string> extends Error {
  readonly code: TCode
  declare readonly [BRAND]: true

  constructor(code: TCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    Object.defineProperty(this, BRAND, { value: true })
  }

  override get name(): string {
    return 'DromedaryError'
  }
}

/**
 * True when `err` is a DromedaryError (also across duplicate copies of the package), optionally with `code`.
 * @example if (isDromedaryError(err, 'DROMEDARY_ERR_QUEUE_FULL')) retryLater()
 */
export function isDromedaryError(err: unknown, code?: string): err is DromedaryError {
  if (typeof err !== 'object' || err === null || (err as Record<symbol, unknown>)[BRAND] !== true)
    return false
  return code === undefined || (err as DromedaryError).code === code
}

const E = CoreErrorCodes
const mk = (code: string, msg: string, cause?: unknown) =>
  new DromedaryError(code, msg, cause === undefined ? undefined : { cause })

/** Typed factories for every core error, so messages stay consistent. */
export const errors = {
  invalidUri: (routeId: string, uri: string, why: string) =>
    mk(E.INVALID_URI, `Route "${routeId}": invalid endpoint URI "${uri}": ${why}`),
  unknownScheme: (routeId: string, uri: string, scheme: string) =>
    mk(E.UNKNOWN_SCHEME, `Route "${routeId}": unknown scheme "${scheme}" in URI "${uri}"`),
  unknownOption: (routeId: string, uri: string, option: string, known: readonly string[]) =>
    mk(
      E.UNKNOWN_OPTION,
      `Route "${routeId}": unknown option "${option}" in URI "${uri}" (known: ${known.join(', ') || 'none'})`,
    ),
  invalidOption: (routeId: string, uri: string, option: string, value: string, expected: string) =>
    mk(
      E.INVALID_OPTION,
      `Route "${routeId}": option "${option}" in URI "${uri}" has value "${value}", expected ${expected}`,
    ),
  invalidContextOption: (option: string, value: unknown, expected: string) =>
    mk(E.INVALID_OPTION, `Option "${option}" has value ${describeValue(value)}, expected ${expected}`),
  invalidDuration: (option: string, value: unknown, min: number) =>
    mk(
      E.INVALID_OPTION,
      `Option "${option}" has value ${describeValue(value)}, expected an integer number of milliseconds from ${min} to 2147483647`,
    ),
  invalidRoute: (routeId: string, why: string) => mk(E.INVALID_ROUTE, `Route "${routeId}": ${why}`),
  duplicateRouteId: (routeId: string) => mk(E.DUPLICATE_ROUTE_ID, `Duplicate route id "${routeId}"`),
  duplicateStartupOrder: (order: number, a: string, b: string) =>
    mk(E.DUPLICATE_STARTUP_ORDER, `Startup order ${order} is used by both route "${a}" and route "${b}"`),
  duplicateConsumer: (routeId: string, uri: string) =>
    mk(E.DUPLICATE_CONSUMER, `Route "${routeId}": endpoint "${uri}" already has a consumer`),
  unknownWorkerGroup: (routeId: string, group: string) =>
    mk(E.UNKNOWN_WORKER_GROUP, `Route "${routeId}": unknown worker group "${group}"`),
  notAConsumer: (routeId: string, uri: string) =>
    mk(E.NOT_A_CONSUMER, `Route "${routeId}": endpoint "${uri}" cannot be consumed from`),
  notAProducer: (routeId: string, uri: string) =>
    mk(E.NOT_A_PRODUCER, `Route "${routeId}": endpoint "${uri}" cannot be sent to`),
  alreadyStarted: (what: string) => mk(E.ALREADY_STARTED, `Cannot ${what} after the context has started`),
  notStarted: (what: string) => mk(E.NOT_STARTED, `Cannot ${what} before the context has started`),
  unknownRoute: (routeId: string) => mk(E.UNKNOWN_ROUTE, `Unknown route "${routeId}"`),
  routeStartFailed: (routeId: string, cause: unknown) =>
    mk(E.ROUTE_START_FAILED, `Route "${routeId}" failed to start: ${messageOf(cause)}`, cause),
  invalidState: (what: string, from: string, to: string) =>
    mk(E.INVALID_STATE, `Cannot move ${what} from ${from} to ${to}`),
  shuttingDown: (what: string) => mk(E.SHUTTING_DOWN, `Rejected ${what}: the context is shutting down`),
  shutdownFailed: (causes: readonly unknown[]) =>
    mk(
      E.SHUTDOWN_FAILED,
      `Shutdown finished with ${causes.length} failure(s): ${causes.map(messageOf).join('; ')}`,
      new AggregateError(causes),
    ),
  noConsumer: (uri: string) => mk(E.NO_CONSUMER, `No consumer available on endpoint "${uri}"`),
  queueFull: (uri: string, size: number) => mk(E.QUEUE_FULL, `Queue "${uri}" is full (size ${size})`),
  unmarshal: (cause: unknown) => mk(E.UNMARSHAL, `Cannot unmarshal body as JSON: ${messageOf(cause)}`, cause),
  marshal: (cause: unknown) => mk(E.MARSHAL, `Cannot marshal body as JSON: ${messageOf(cause)}`, cause),
  aborted: (reason: string) => mk(E.ABORTED, `Exchange aborted: ${reason}`),
  mockNotSatisfied: (name: string, detail: string) =>
    mk(E.MOCK_NOT_SATISFIED, `mock:${name} is not satisfied: ${detail}`),
  idempotentKey: (routeId: string, nodeId: string, key: unknown) =>
    mk(
      E.IDEMPOTENT_KEY,
      `Route "${routeId}": the key of idempotentConsumer ${nodeId} must be a non-empty string, got ${describeValue(key)}`,
    ),
} satisfies Record<string, (...args: never[]) => DromedaryError>

/** A value as an error message shows it: strings quoted, everything else as JavaScript would print it. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value)
  if (value === undefined || value === null) return String(value)
  try {
    return JSON.stringify(value) ?? typeof value
  } catch {
    return typeof value
  }
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
