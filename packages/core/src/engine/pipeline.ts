import { errors } from '../errors.js'
import type { DefaultExchange } from '../exchange/exchange.js'
import type { ErrorHandler } from './error-handler.js'
import { isThenable, STOP, type Step } from './step.js'

/** Told when a run that went asynchronous has ended. @internal */
export interface PipelineEnd {
  pipelineEnded(exchange: DefaultExchange): void
}

/**
 * Ends the run of an aborted exchange at a step boundary (SPEC §4.1, "aborted means stopped"): no further step
 * runs, and its outcome is `aborted` whatever the step before did.
 */
function stopAborted(exchange: DefaultExchange): typeof STOP {
  exchange.exception ??= errors.aborted(exchange.abortReason ?? 'aborted')
  return STOP
}

/**
 * Runs an exchange through compiled steps. Synchronous steps run in a plain loop; the first step that
 * returns a promise moves the rest of the run into one async continuation. Returns `undefined` when the
 * whole run was synchronous, else a promise. A step's failure goes to the error handler, which never lets it
 * escape: the run ends with `exception` set. An aborted exchange runs no further step.
 * @internal
 */
export class Pipeline {
  readonly steps: readonly Step[]
  readonly #errors: ErrorHandler
  readonly #routeId: string

  constructor(steps: readonly Step[], errors: ErrorHandler, routeId: string) {
    this.steps = steps
    this.#errors = errors
    this.#routeId = routeId
  }

  /**
   * `end`, when given, is told when a run that went asynchronous has ended, before the returned promise settles:
   * the caller needs no continuation of its own on that promise (a promise and a tick per exchange, issue 8).
   */
  run(exchange: DefaultExchange, end?: PipelineEnd): void | Promise<void> {
    const steps = this.steps
    for (let i = 0; i < steps.length; i++) {
      if (exchange.abortReason !== undefined) {
        stopAborted(exchange)
        return
      }
      const step = steps[i]!
      // Where the exchange is, for `browse()`, also while a step runs synchronously: two stores, no clock read.
      exchange.nodeId = step.nodeId
      exchange.nodeSince = 0
      const result = this.#call(exchange, step)
      if (result === undefined) continue
      if (result === STOP) return
      if (isThenable(result)) return this.#resume(exchange, i, result, end)
    }
  }

  #call(exchange: DefaultExchange, step: Step): unknown {
    try {
      return step.run(exchange)
    } catch (err) {
      return this.#errors.handle(exchange, step, err)
    }
  }

  // The one async continuation of a run: every later async step is awaited in this loop. (Calling `run` again
  // from here would start a new continuation per async step, each adopted by the previous one's promise:
  // three extra promises and ticks per step, issue 8.)
  async #resume(
    exchange: DefaultExchange,
    index: number,
    pending: PromiseLike<unknown>,
    end: PipelineEnd | undefined,
  ): Promise<void> {
    const steps = this.steps
    try {
      for (;;) {
        const step = steps[index]!
        // A `to` that went async inside a direct: call must not overwrite the called route's step (the
        // exchange is there); the time is read only now that the exchange waits where others can see it.
        if (exchange.atRouteId === this.#routeId && step.scope !== true) {
          exchange.nodeId = step.nodeId
          exchange.nodeSince = Date.now()
        }
        let result: unknown
        try {
          result = await pending
        } catch (err) {
          result = await this.#errors.handle(exchange, step, err)
        }
        if (result === STOP) return
        let next: PromiseLike<unknown> | undefined
        while (next === undefined && ++index < steps.length) {
          if (exchange.abortReason !== undefined) {
            stopAborted(exchange)
            return
          }
          const s = steps[index]!
          exchange.nodeId = s.nodeId
          exchange.nodeSince = 0
          const r = this.#call(exchange, s)
          if (r === STOP) return
          if (r !== undefined && isThenable(r)) next = r
        }
        if (next === undefined) return
        pending = next
      }
    } finally {
      end?.pipelineEnded(exchange)
    }
  }
}
