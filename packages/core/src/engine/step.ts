import type { DefaultExchange } from '../exchange/exchange.js'

/** Returned by a step to end the exchange's run through this route (filter, asyncRoute hand-off, failure). */
export const STOP: unique symbol = Symbol('dromedary.stop')

/** What a step returns: nothing (go on), STOP, or a promise of either. */
export type StepResult = void | typeof STOP | PromiseLike<unknown>

/** A compiled step. `run` must not allocate a promise when it can finish synchronously. @internal */
export interface Step {
  readonly nodeId: string
  /**
   * True for a step that runs other steps inside it (`choice`, `split`, `idempotentConsumer`, `transacted`):
   * while it waits, the exchange is in one of those, which notes its own node id — the enclosing pipeline
   * must not overwrite it with this step's.
   */
  readonly scope?: boolean
  run(exchange: DefaultExchange): StepResult
}

/** True for anything with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
