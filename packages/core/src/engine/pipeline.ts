import type { DefaultExchange } from '../exchange/exchange.js'
import type { ErrorHandler } from './error-handler.js'
import { isThenable, STOP, type Step } from './step.js'

/** Told when a run that went asynchronous has ended. @internal */
export interface PipelineEnd {
  pipelineEnded(exchange: DefaultExchange): void
}

/**
 * Runs an exchange through compiled steps. Synchronous steps run in a plain loop; the first step that
 * returns a promise moves the rest of the run into one async continuation. Returns `undefined` when the
 * whole run was synchronous, else a promise; never throws or rejects (failures end up in `exception`).
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
      const result = this.#call(exchange, steps[i]!)
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
        // Only now is the exchange observable from outside, so only now do we note where it waits. A `to` that
        // went async inside a direct: call must not overwrite the called route's step (the exchange is there).
        if (exchange.atRouteId === this.#routeId) {
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
          const r = this.#call(exchange, steps[index]!)
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
