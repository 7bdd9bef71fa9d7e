import type { DefaultExchange } from '../exchange/exchange.js'
import type { ErrorHandler } from './error-handler.js'
import { isThenable, STOP, type Step } from './step.js'

/**
 * Runs an exchange through compiled steps. Synchronous steps run in a plain loop; the first step that
 * returns a promise moves the rest of the run into one async continuation. Returns `undefined` when the
 * whole run was synchronous, else a promise; never throws or rejects (failures end up in `exception`).
 * @internal
 */
export class Pipeline {
  readonly steps: readonly Step[]
  readonly #errors: ErrorHandler

  constructor(steps: readonly Step[], errors: ErrorHandler) {
    this.steps = steps
    this.#errors = errors
  }

  run(exchange: DefaultExchange, from = 0): void | Promise<void> {
    const steps = this.steps
    for (let i = from; i < steps.length; i++) {
      const step = steps[i]!
      let result: unknown
      try {
        result = step.run(exchange)
      } catch (err) {
        result = this.#errors.handle(exchange, step, err)
      }
      if (result === undefined) continue
      if (result === STOP) return
      if (isThenable(result)) return this.#resume(exchange, i, result)
    }
  }

  async #resume(exchange: DefaultExchange, index: number, pending: PromiseLike<unknown>): Promise<void> {
    const step = this.steps[index]!
    // Only now is the exchange observable from outside, so only now do we note where it waits.
    exchange.nodeId = step.nodeId
    exchange.nodeSince = Date.now()
    let result: unknown
    try {
      result = await pending
    } catch (err) {
      result = await this.#errors.handle(exchange, step, err)
    }
    if (result === STOP) return
    return this.run(exchange, index + 1)
  }
}
