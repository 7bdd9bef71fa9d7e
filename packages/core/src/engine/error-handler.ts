import { isDromedaryError, messageOf } from '../errors.js'
import type { DefaultExchange } from '../exchange/exchange.js'
import type { OnExceptionDefinition } from '../route/route-definition.js'
import type { Producer } from '../spi/component.js'
import { MAX_DURATION_MS } from '../uri/duration.js'
import { isThenable, STOP, type Step } from './step.js'

/** Header carrying how many redeliveries an exchange has had (Camel `CamelRedeliveryCounter`). */
export const REDELIVERY_COUNTER = 'dromedary.redeliveryCounter'

/**
 * Exchange property holding the error that sent the exchange to its dead letter (Camel
 * `CamelExceptionCaught`): the dead-letter route sees a clean exchange and can still read why it came.
 */
export const EXCEPTION_CAUGHT = 'dromedary.exceptionCaught'

/** What the error handler needs from its route. @internal */
export interface ErrorHandlerHost {
  /** False once shutdown is past NOTICE, unless the route drains with completeAllTasks. */
  mayRedeliver(): boolean
  /** True when the exchange's consumer can hand it back to its source (AMQP requeue). */
  canHandBack(exchange: DefaultExchange): boolean
  /** An abortable wait; rejects when the exchange is aborted. */
  sleep(exchange: DefaultExchange, ms: number): Promise<void>
  producerFor(uri: string): Producer
  /** Logs a failure of the error handling itself (a dead letter or a matcher that threw), once. */
  logFailure(exchange: DefaultExchange, message: string, err: unknown): void
}

type Match = { readonly clause: OnExceptionDefinition | undefined } | { readonly matcherError: unknown }

/**
 * Applies `onException` (SPEC §3.2): redelivers the failing step, then dead-letters or leaves the exception
 * set. Always ends the run with STOP unless a redelivery succeeded. Never throws or rejects: a matcher or a
 * dead letter that fails makes the exchange fail with that error.
 * @internal
 */
export class ErrorHandler {
  readonly #clauses: readonly OnExceptionDefinition[]
  readonly #host: ErrorHandlerHost

  constructor(clauses: readonly OnExceptionDefinition[], host: ErrorHandlerHost) {
    this.#clauses = clauses
    this.#host = host
  }

  handle(exchange: DefaultExchange, step: Step, err: unknown): typeof STOP | Promise<unknown> {
    if (exchange.abortReason !== undefined || this.#clauses.length === 0) return fail(exchange, err)
    const m = this.#match(exchange, err)
    if (!('clause' in m)) return fail(exchange, m.matcherError)
    const clause = m.clause
    if (clause === undefined) return fail(exchange, err)
    if (clause.options.maximumRedeliveries > 0) {
      if (!this.#host.mayRedeliver()) return this.#cutShort(exchange, err, clause)
      return this.#redeliver(exchange, step, err, clause)
    }
    return this.#exhausted(exchange, err, clause)
  }

  async #redeliver(
    exchange: DefaultExchange,
    step: Step,
    firstErr: unknown,
    clause: OnExceptionDefinition,
  ): Promise<unknown> {
    const { maximumRedeliveries, redeliveryDelayMs, backoffMultiplier } = clause.options
    let err = firstErr
    let delay = redeliveryDelayMs
    for (let attempt = 1; attempt <= maximumRedeliveries; attempt++) {
      if (exchange.abortReason !== undefined) return fail(exchange, err)
      if (!this.#host.mayRedeliver()) return this.#cutShort(exchange, err, clause)
      try {
        if (delay > 0) await this.#host.sleep(exchange, delay)
      } catch (abortErr) {
        return fail(exchange, abortErr)
      }
      delay = Math.min(delay * backoffMultiplier, MAX_DURATION_MS)
      exchange.message.headers[REDELIVERY_COUNTER] = attempt
      try {
        const r = step.run(exchange)
        return isThenable(r) ? await r : r
      } catch (e) {
        err = e
        const m = this.#match(exchange, e)
        if (!('clause' in m)) return fail(exchange, m.matcherError)
        if (m.clause !== clause) break
      }
    }
    return this.#exhausted(exchange, err, clause)
  }

  /**
   * Shutdown is past NOTICE and redeliveries were left. A consumer that can hand the message back (AMQP) gets
   * it back for the next instance to retry: the exchange ends aborted. One that cannot (seda, timer, direct)
   * must not lose it: it goes on to the dead letter, or fails.
   */
  #cutShort(
    exchange: DefaultExchange,
    err: unknown,
    clause: OnExceptionDefinition,
  ): typeof STOP | Promise<typeof STOP> {
    if (!this.#host.canHandBack(exchange)) return this.#exhausted(exchange, err, clause)
    exchange.abort('shutdown: redeliveries left')
    exchange.exception = err
    return STOP
  }

  async #exhausted(
    exchange: DefaultExchange,
    err: unknown,
    clause: OnExceptionDefinition,
  ): Promise<typeof STOP> {
    const to = clause.options.to
    if (to === undefined || exchange.abortReason !== undefined) {
      exchange.exception = clause.options.handled && exchange.abortReason === undefined ? undefined : err
      return STOP
    }
    // The dead letter gets a clean exchange (a direct: dead-letter route would otherwise re-raise the error);
    // once it accepted the exchange, the exchange is handled and completes (Camel's DeadLetterChannel), unless
    // the clause says `handled: false`.
    exchange.exception = undefined
    exchange.properties.set(EXCEPTION_CAUGHT, err)
    try {
      const r = this.#host.producerFor(to).process(exchange)
      if (isThenable(r)) await r
    } catch (dlqErr) {
      exchange.exception = dlqErr
    }
    const dlqErr = exchange.exception
    if (dlqErr !== undefined) {
      this.#host.logFailure(exchange, `Dead letter delivery to ${to} failed: ${messageOf(dlqErr)}`, dlqErr)
    } else if (!clause.options.handled) {
      // `handled: false` said explicitly (Camel `onException().handled(false)`): delivered, and still failed.
      exchange.exception = err
    }
    return STOP
  }

  #match(exchange: DefaultExchange, err: unknown): Match {
    try {
      return { clause: this.#find(err) }
    } catch (matcherError) {
      this.#host.logFailure(
        exchange,
        `onException matcher threw: ${messageOf(matcherError)}; the exchange fails with that error`,
        matcherError,
      )
      return { matcherError }
    }
  }

  #find(err: unknown): OnExceptionDefinition | undefined {
    for (const c of this.#clauses) {
      const m = c.matcher
      if (m === undefined) return c
      if (typeof m === 'string') {
        if (isDromedaryError(err, m)) return c
      } else if (m.prototype instanceof Error || m === Error) {
        if (err instanceof (m as new () => Error)) return c
      } else if ((m as (e: unknown) => boolean)(err)) return c
    }
    return undefined
  }
}

function fail(exchange: DefaultExchange, err: unknown): typeof STOP {
  exchange.exception = err
  return STOP
}
