import type { Exchange } from '../exchange/exchange.js'
import type { OptionSchema, ParsedOptions } from '../uri/options.js'
import type { Logger } from './logger.js'
import type { MetricsFactory } from './metrics.js'

/** How a route treats work its consumer has taken but not started when it stops (SPEC §4.1). */
export type ShutdownRunningTask = 'completeCurrentTaskOnly' | 'completeAllTasks'

/** `running` until NOTICE, `pending` from NOTICE, `shutdown` from NOW (seed 001). */
export type ShutdownLevel = 'running' | 'pending' | 'shutdown'

/**
 * What a shutdown participant is told (SPEC §4.4): whether the stop is forced, and a signal the context
 * aborts when the participant's phase deadline passes or the shutdown is escalated (`forceStop()`). Once it
 * is aborted, stop waiting on peers and end hard (destroy sockets; the broker requeues what was unacked).
 * The context always passes `signal`; it is optional only so tests can call a participant directly.
 */
export interface StopOptions {
  readonly forced: boolean
  readonly signal?: AbortSignal
}

/** A parsed endpoint URI: `scheme:path?option=value`. */
export interface EndpointUri {
  /** The URI as written. */
  readonly uri: string
  readonly scheme: string
  /** Everything between `scheme:` and `?`, without a leading `//` (`http:/orders` keeps its one slash). */
  readonly path: string
  /** Raw option values, validated by `parseOptions`. */
  readonly params: ReadonlyMap<string, string>
  /** The route the URI appears in (for error messages). */
  readonly routeId: string
  /** Validates `params` against `schema`, naming route, URI and option on error. */
  parseOptions<TSchema extends OptionSchema>(schema: TSchema): ParsedOptions<TSchema>
}

/** What the context gives components. */
export interface ComponentContext {
  readonly name: string
  readonly logger: Logger
  /** Undefined when metrics are off. */
  readonly metrics: MetricsFactory | undefined
  readonly shutdownLevel: ShutdownLevel
}

/**
 * A factory of endpoints for one scheme.
 * @example ctx.addComponent('amqp', amqpComponent({ url }))
 */
export interface Component {
  /** Creates (or returns the shared) endpoint for a URI; throws a DromedaryError for bad options. */
  createEndpoint(uri: EndpointUri, context: ComponentContext): Endpoint
  /** Called once by `ctx.start()` before any route starts. */
  start?(context: ComponentContext): void | Promise<void>
  /**
   * Called at NOW, after every route is stopped: close sockets, channels and connections. Raced against the
   * NOW deadline (`nowBudgetMs`); when `options.signal` aborts, close hard (destroy sockets) at once.
   */
  close?(options: StopOptions): void | Promise<void>
  /**
   * False while the component cannot do its work and will not recover by itself (an AMQP connection whose
   * recovery gave up); the context then reports not ready (`health().ready`, `/health/ready`). Omitted: healthy.
   */
  healthy?(): boolean
}

/** One addressable endpoint. */
export interface Endpoint {
  readonly uri: string
  /** Present when the endpoint can be consumed from (`from(uri)`). */
  createConsumer?(host: ConsumerHost): Consumer
  /** Present when the endpoint can be sent to (`to(uri)`). */
  createProducer?(): Producer
}

/**
 * What a consumer uses to feed its route. `process` runs an exchange through the route and never throws:
 * a failure leaves `exchange.exception` set. It returns `undefined` when the route finished synchronously.
 */
export interface ConsumerHost {
  readonly routeId: string
  readonly endpointUri: string
  readonly logger: Logger
  /** The route's `shutdownRunningTask`. */
  readonly shutdownRunningTask: ShutdownRunningTask
  /** Creates an exchange owned by this route. */
  createExchange<TBody>(body: TBody, headers?: Record<string, unknown>): Exchange<TBody>
  /** Runs the exchange; it is in flight from now until the returned promise settles (or this returns). */
  process(exchange: Exchange): void | Promise<void>
  /**
   * True when the exchange failed because shutdown aborted it. Such an exchange must be handed back
   * (AMQP: nack with requeue), never discarded or dead-lettered.
   */
  wasAborted(exchange: Exchange): boolean
  /** Call after `pendingExchanges()` fell, so an event-driven drain can notice it reached zero. */
  notifyPending(): void
  /**
   * Tells the route whether its consumer can take work right now. A consumer that lost its subscription
   * (cancelled by the broker, resubscribing with backoff) calls `setReady(false)`; until `setReady(true)` the
   * route reports `route_up` 0 and the context is not ready (`health().ready`). Starts out ready.
   */
  setReady(ready: boolean): void
  /** The context's shutdown level right now. */
  readonly shutdownLevel: ShutdownLevel
}

/**
 * The consumer SPI (SPEC §4.3). Only `start` and `stop` are required.
 *
 * Shutdown contract for component authors:
 * - `prepareShutdown` stops intake (cancel subscriptions, answer 503, stop timers) but lets started
 *   exchanges finish. With `completeCurrentTaskOnly`, work taken but not started that can be handed back
 *   is handed back here; with `completeAllTasks` it is processed.
 * - `pendingExchanges` counts work taken but not yet started; the drain waits for it to reach zero.
 * - `deferShutdown` returning true keeps the consumer running until every other route has drained
 *   (Camel `ShutdownAware`); in-memory queues defer because they cannot hand work back.
 * - `stop({ forced: true })` must hand back every unfinished message (requeue), never drop it silently;
 *   an exchange whose `ConsumerHost.wasAborted` is true is treated as unfinished.
 */
export interface Consumer {
  start(): void | Promise<void>
  stop(options: StopOptions): void | Promise<void>
  suspend?(): void | Promise<void>
  resume?(): void | Promise<void>
  prepareShutdown?(options: StopOptions & { readonly task: ShutdownRunningTask }): void | Promise<void>
  pendingExchanges?(): number
  deferShutdown?(task: ShutdownRunningTask): boolean
  afterShutdown?(): void | Promise<void>
  /**
   * Releases what `createConsumer` claimed (an endpoint's single-consumer slot) when its route is discarded
   * before it ever started: a rejected `addRoutes` batch leaves no trace (SPEC §2).
   */
  dispose?(): void
  /**
   * True when the consumer can hand an unfinished message back to its source (AMQP requeue). Then an
   * exchange whose redeliveries shutdown cut short is aborted and handed back; otherwise (seda, timer) it
   * goes on to its dead letter or fails (SPEC §3.2). @default false
   */
  readonly handsBack?: boolean
}

/** Sends exchanges to an endpoint. `process` may return synchronously. */
export interface Producer {
  process(exchange: Exchange): void | Promise<void>
  start?(): void | Promise<void>
  /** Called at NOW; raced against the NOW deadline, and `signal` aborts when it passes. */
  stop?(options?: { readonly signal?: AbortSignal }): void | Promise<void>
}
