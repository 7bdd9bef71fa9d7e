import { errors } from '../errors.js'
import { validateDuration } from '../uri/duration.js'
import type { Exchange } from '../exchange/exchange.js'
import { idempotentConsumerDefinition, type IdempotentConsumerOptions } from '../engine/idempotent-step.js'
import type { ShutdownRunningTask } from '../spi/component.js'
import type { TransactionPolicy } from '../spi/transaction-policy.js'
import { checkTransactionPolicy } from '../engine/transacted-step.js'
import {
  createRouteDefinition,
  type ExceptionMatcher,
  type OnExceptionOptions,
  type Predicate,
  type RouteDefinition,
  type StepDefinition,
} from './route-definition.js'

type Fn = (exchange: Exchange) => unknown
const asFn = (fn: unknown): Fn => fn as Fn

/** Builds the `when`/`otherwise` branches of a `choice`. */
export class ChoiceBuilder<TBody> {
  /** @internal */
  readonly whens: Array<{ predicate: Fn; steps: StepDefinition[] }> = []
  /** @internal */
  otherwiseSteps: StepDefinition[] | undefined = undefined

  /** Runs `branch` for exchanges matching `predicate` (the first matching `when` wins). */
  when(predicate: Predicate<TBody>, branch: (b: RouteBuilder<TBody>) => unknown): this {
    this.whens.push({ predicate: asFn(predicate), steps: buildSteps<TBody>(branch) })
    return this
  }

  /** Runs `branch` when no `when` matched. */
  otherwise(branch: (b: RouteBuilder<TBody>) => unknown): this {
    this.otherwiseSteps = buildSteps<TBody>(branch)
    return this
  }
}

function buildSteps<TBody>(branch: (b: RouteBuilder<TBody>) => unknown): StepDefinition[] {
  const b = new RouteBuilder<TBody>([])
  branch(b)
  return b.steps
}

/**
 * A route under construction: the typed steps of SPEC §3.1/§3.3 (each returns the builder with the new body
 * type) and the route-level settings. Branches of `choice`/`split` get one without route settings.
 */
export class RouteBuilder<TBody> {
  /** @internal */
  readonly steps: StepDefinition[]
  readonly #definition: RouteDefinition | undefined

  /** @internal */
  constructor(steps: StepDefinition[], definition?: RouteDefinition) {
    this.steps = steps
    this.#definition = definition
  }

  get #def(): RouteDefinition {
    if (this.#definition === undefined)
      throw errors.invalidRoute('(branch)', 'route settings are not allowed inside a branch')
    return this.#definition
  }

  #add<TOut = TBody>(step: StepDefinition): RouteBuilder<TOut> {
    this.steps.push(step)
    return this as unknown as RouteBuilder<TOut>
  }

  /** Runs `fn` on the exchange; the body type is unchanged. */
  process(fn: (exchange: Exchange<TBody>) => void | Promise<void>): this {
    return this.#add({ kind: 'process', fn: asFn(fn) }) as this
  }

  /** Replaces the body with what `fn` returns (awaited). */
  transform<TOut>(fn: (exchange: Exchange<TBody>) => TOut | Promise<TOut>): RouteBuilder<Awaited<TOut>> {
    return this.#add({ kind: 'transform', fn: asFn(fn) })
  }

  /** Sets the body to a value, or to what a function of the exchange returns. */
  setBody<TOut>(
    value: TOut | ((exchange: Exchange<TBody>) => TOut | Promise<TOut>),
  ): RouteBuilder<Awaited<TOut>> {
    return this.#add({ kind: 'setBody', value })
  }

  /** Sets a header to what a function of the exchange returns (awaited). */
  setHeader<TValue>(name: string, value: (exchange: Exchange<TBody>) => TValue | Promise<TValue>): this
  /** Sets a header to a value. */
  setHeader(name: string, value: unknown): this
  setHeader(name: string, value: unknown): this {
    return this.#add({ kind: 'setHeader', name, value }) as this
  }

  /** Removes a header. */
  removeHeader(name: string): this {
    return this.#add({ kind: 'removeHeader', name }) as this
  }

  /** Stops the exchange here (completed) unless `predicate` holds. */
  filter(predicate: Predicate<TBody>): this {
    return this.#add({ kind: 'filter', predicate: asFn(predicate) }) as this
  }

  /** Content-based router: `choice(c => c.when(p, b => …).otherwise(b => …))`. */
  choice(build: (c: ChoiceBuilder<TBody>) => unknown): this {
    const c = new ChoiceBuilder<TBody>()
    build(c)
    return this.#add({ kind: 'choice', whens: c.whens, otherwise: c.otherwiseSteps }) as this
  }

  /** Runs `branch` once per item of `fn(exchange)`, each on a copy of the exchange whose body is the item. */
  split<TItem>(
    fn: (exchange: Exchange<TBody>) => Iterable<TItem> | Promise<Iterable<TItem>>,
    branch: (b: RouteBuilder<TItem>) => unknown,
    options: { parallel?: boolean } = {},
  ): this {
    return this.#add({
      kind: 'split',
      fn: asFn(fn),
      steps: buildSteps<TItem>(branch),
      parallel: options.parallel ?? false,
    }) as this
  }

  /** Sends the exchange to an endpoint and continues with its result (request-reply for `direct:`). */
  to(uri: string): this {
    return this.#add({ kind: 'to', uri }) as this
  }

  /** Like `to`, with the URI computed per exchange. */
  toD(fn: (exchange: Exchange<TBody>) => string): this {
    return this.#add({ kind: 'toD', fn: asFn(fn) }) as this
  }

  /** Sends a copy of the exchange to an endpoint without waiting for it. */
  wireTap(uri: string): this {
    return this.#add({ kind: 'wireTap', uri }) as this
  }

  /** Sends a copy of the exchange to every URI, in order, and continues with the original. */
  multicast(uris: readonly string[]): this {
    return this.#add({ kind: 'multicast', uris: [...uris] }) as this
  }

  /** Logs a message (a string with `${body}`/`${id}` placeholders, or a function) at info. */
  log(message: string | ((exchange: Exchange<TBody>) => string)): this {
    return this.#add({ kind: 'log', message }) as this
  }

  /** Serialises the body to a JSON string. */
  marshal(format: 'json'): RouteBuilder<string> {
    return this.#add({ kind: 'marshal', format })
  }

  /** Parses a string/Buffer body as JSON; bad JSON fails the exchange with DROMEDARY_ERR_UNMARSHAL. */
  unmarshal<TOut = unknown>(format: 'json'): RouteBuilder<TOut> {
    return this.#add({ kind: 'unmarshal', format })
  }

  /** Lets at most `count` exchanges through per `perMs` window; the rest wait (non-blocking). */
  throttle(count: number, perMs: number): this {
    return this.#add({ kind: 'throttle', count, perMs }) as this
  }

  /**
   * Non-blocking wait (Kamailio `async_ms_sleep`); the exchange stays in flight. `ms` may be computed per
   * exchange (seed 003's leaky-bucket shaper sleeps a per-key delay); zero or less continues at once.
   */
  delay(ms: number | ((exchange: Exchange<TBody>) => number)): this {
    return this.#add({ kind: 'delay', ms: typeof ms === 'number' ? ms : asFn(ms) }) as this
  }

  /** Suspends the exchange and continues it in the route consuming `uri` after `delayMs`; what follows is skipped. */
  asyncRoute(uri: string, options: { delayMs?: number } = {}): this {
    return this.#add({ kind: 'asyncRoute', uri, delayMs: options.delayMs ?? 0 }) as this
  }

  /** Hands the exchange to a worker group; it continues in `uri` as soon as a worker is free. */
  asyncTask(uri: string, options: { group?: string } = {}): this {
    return this.#add({ kind: 'asyncTask', uri, group: options.group ?? 'default' }) as this
  }

  /** Sends `fn(exchange)` as the body of a new exchange to `uri` on a worker group; does not wait. */
  asyncTaskData(
    uri: string,
    fn: (exchange: Exchange<TBody>) => unknown,
    options: { group?: string } = {},
  ): this {
    return this.#add({ kind: 'asyncTaskData', uri, fn: asFn(fn), group: options.group ?? 'default' }) as this
  }

  /** Emits a type-key-value event consumed by `from('event:tkv')` (Kamailio `async_tkv_emit`). */
  emitEvent(type: string, key: string, valueFn: (exchange: Exchange<TBody>) => unknown): this {
    return this.#add({ kind: 'emitEvent', type, key, valueFn: asFn(valueFn) }) as this
  }

  /**
   * Idempotent consumer (Camel): `keyFn` names the message; a key already in `options.repository` skips the
   * rest of the route (the exchange completes) or, with `skipDuplicate: false`, runs it with header
   * `dromedary.duplicate` = true. Eager (default): the key is added before the rest runs, confirmed when the
   * exchange completes and removed when it fails (`removeOnFailure`). Lazy: added only once it completed.
   * @example r.from('amqp:queue:payments').idempotentConsumer((ex) => String(ex.message.headers['amqp.messageId']), { repository })
   */
  idempotentConsumer(keyFn: (exchange: Exchange<TBody>) => string, options: IdempotentConsumerOptions): this {
    return this.#add(idempotentConsumerDefinition(this.#id(), keyFn, options)) as this
  }

  /**
   * Runs the steps `block` adds inside one transaction of `policy` (Camel `transacted`): it commits when they
   * complete and rolls back at the first failure, which then fails this step as a whole (so `onException`
   * redelivers the whole block). The PostgreSQL inbox is such a policy; a duplicate skips the block.
   */
  transacted(policy: TransactionPolicy, block: (b: RouteBuilder<TBody>) => unknown): this {
    return this.#add({
      kind: 'transacted',
      policy: checkTransactionPolicy(this.#id(), policy),
      steps: buildSteps<TBody>(block),
    }) as this
  }

  /** Sets the route id. @default `route1`, `route2`, … */
  routeId(id: string): this {
    if (typeof id !== 'string' || id === '')
      throw errors.invalidRoute(String(id), 'route id must be a non-empty string')
    this.#def.id = id
    return this
  }

  /** Position in the start (and stop) order; unnumbered routes come after, from 1000 up. */
  startupOrder(order: number): this {
    if (!Number.isInteger(order))
      throw errors.invalidRoute(this.#id(), `startupOrder must be an integer, got ${order}`)
    this.#def.startupOrder = order
    return this
  }

  /** Whether `ctx.start()` starts the route. @default true */
  autoStartup(auto: boolean): this {
    this.#def.autoStartup = auto
    return this
  }

  /** `defer` keeps the route consuming until the other routes are drained. @default 'default' */
  shutdownRoute(mode: 'default' | 'defer'): this {
    if (mode !== 'default' && mode !== 'defer')
      throw errors.invalidRoute(this.#id(), `bad shutdownRoute "${String(mode)}"`)
    this.#def.shutdownRoute = mode
    return this
  }

  /** What happens to taken-but-unstarted work at shutdown. @default 'completeCurrentTaskOnly' */
  shutdownRunningTask(task: ShutdownRunningTask): this {
    if (task !== 'completeCurrentTaskOnly' && task !== 'completeAllTasks')
      throw errors.invalidRoute(this.#id(), `bad shutdownRunningTask "${String(task)}"`)
    this.#def.shutdownRunningTask = task
    return this
  }

  /**
   * Entries of this route's `toD` producer cache (Camel `cacheSize`): the least recently used producer beyond
   * it is stopped, releasing its channel or socket. @default 1000
   */
  toDCacheSize(size: number): this {
    if (!Number.isInteger(size) || size < 1)
      throw errors.invalidContextOption(`toDCacheSize of route ${this.#id()}`, size, 'an integer >= 1')
    this.#def.toDCacheSize = size
    return this
  }

  /** Redelivery and dead-letter policy for errors matching `matcher` (all errors when omitted). */
  onException(options: OnExceptionOptions): this
  onException(matcher: ExceptionMatcher, options: OnExceptionOptions): this
  onException(a: ExceptionMatcher | OnExceptionOptions, b?: OnExceptionOptions): this {
    const hasMatcher = b !== undefined
    const matcher = hasMatcher ? (a as ExceptionMatcher) : undefined
    const o = (hasMatcher ? b : a) as OnExceptionOptions
    const n = (v: number | undefined, d: number, name: string, integer: boolean) => {
      const x = v ?? d
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (integer && !Number.isInteger(x)))
        throw errors.invalidContextOption(
          `onException ${name} of route ${this.#id()}`,
          x,
          integer ? 'an integer >= 0' : 'a number >= 0',
        )
      return x
    }
    this.#def.onExceptions.push({
      matcher,
      options: {
        maximumRedeliveries: n(o.maximumRedeliveries, 0, 'maximumRedeliveries', true),
        redeliveryDelayMs: validateDuration(
          `onException redeliveryDelayMs of route ${this.#id()}`,
          o.redeliveryDelayMs ?? 1000,
        ),
        backoffMultiplier: n(o.backoffMultiplier, 1, 'backoffMultiplier', false),
        handled: o.handled ?? o.to !== undefined,
        to: o.to,
      },
    })
    return this
  }

  #id(): string {
    return this.#definition?.id ?? `(route from ${this.#definition?.from ?? 'a branch'})`
  }
}

/** The builder a `choice`/`split` branch gets: steps only. */
export type StepsBuilder<TBody> = RouteBuilder<TBody>

/** What `addRoutes` hands your function. */
export interface RouteDsl {
  /** Starts a route consuming `uri`; `TBody` types the incoming body. */
  from<TBody = unknown>(uri: string): RouteBuilder<TBody>
}

/** Collects the routes a `ctx.addRoutes` function defines. @internal */
export function collectRoutes(fn: (r: RouteDsl) => void): RouteDefinition[] {
  const defs: RouteDefinition[] = []
  fn({
    from<TBody>(uri: string) {
      const def = createRouteDefinition(uri)
      defs.push(def)
      return new RouteBuilder<TBody>(def.steps, def)
    },
  })
  return defs
}
