import { isDromedaryError } from '../errors.js'
import type { DefaultExchange } from '../exchange/exchange.js'
import type { OnExceptionDefinition } from '../route/route-definition.js'
import type { Producer } from '../spi/component.js'
import { isThenable, STOP, type Step } from './step.js'

/** Header carrying how many redeliveries an exchange has had (Camel `CamelRedeliveryCounter`). */
export const REDELIVERY_COUNTER = 'dromedary.redeliveryCounter'

/** What the error handler needs from its route. @internal */
export interface ErrorHandlerHost {
  /** False once shutdown is past NOTICE, unless the route drains with completeAllTasks. */
  mayRedeliver(): boolean
  /** An abortable wait; rejects when the exchange is aborted. */
  sleep(exchange: DefaultExchange, ms: number): Promise<void>
  producerFor(uri: string): Producer
  logDeadLetterFailure(exchange: DefaultExchange, err: unknown): void
}

/**
 * Applies `onException` (SPEC §3.2): redelivers the failing step, then dead-letters or leaves the exception
 * set. Always ends the run with STOP unless a redelivery succeeded.
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
    const clause = this.#match(err)
    if (exchange.abortReason !== undefined || clause === undefined) {
      exchange.exception = err
      return STOP
    }
    if (clause.options.maximumRedeliveries > 0) {
      if (!this.#host.mayRedeliver()) return handBack(exchange, err)
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
      if (exchange.abortReason !== undefined) break
      if (!this.#host.mayRedeliver()) return handBack(exchange, err)
      try {
        if (delay > 0) await this.#host.sleep(exchange, delay)
      } catch (abortErr) {
        exchange.exception = abortErr
        return STOP
      }
      delay *= backoffMultiplier
      exchange.message.headers[REDELIVERY_COUNTER] = attempt
      try {
        const r = step.run(exchange)
        return isThenable(r) ? await r : r
      } catch (e) {
        err = e
        if (this.#match(e) !== clause) break
      }
    }
    return this.#exhausted(exchange, err, clause)
  }

  async #exhausted(
    exchange: DefaultExchange,
    err: unknown,
    clause: OnExceptionDefinition,
  ): Promise<typeof STOP> {
    exchange.exception = err
    if (exchange.abortReason !== undefined) return STOP
    const { to, handled } = clause.options
    if (to !== undefined) {
      try {
        const r = this.#host.producerFor(to).process(exchange)
        if (isThenable(r)) await r
      } catch (dlqErr) {
        // A dead letter that cannot be delivered leaves the exchange failed: its consumer must not ack it.
        this.#host.logDeadLetterFailure(exchange, dlqErr)
        exchange.exception = dlqErr
        return STOP
      }
    }
    if (handled) exchange.exception = undefined
    return STOP
  }

  #match(err: unknown): OnExceptionDefinition | undefined {
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

/**
 * Shutdown is past NOTICE and the exchange still had redeliveries left: rather than dead-letter it early, end
 * it as aborted so its consumer hands the message back (AMQP requeue) for the next instance to retry.
 */
function handBack(exchange: DefaultExchange, err: unknown): typeof STOP {
  exchange.abort('shutdown: redeliveries left')
  exchange.exception = err
  return STOP
}
