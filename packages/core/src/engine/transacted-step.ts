import { ErrorHandler } from './error-handler.js'
import type { Pipeline } from './pipeline.js'
import { isThenable, type Step, type StepResult } from './step.js'
import { errors } from '../errors.js'
import type { DefaultExchange, Exchange } from '../exchange/exchange.js'
import type { TransactedBlock, TransactionPolicy } from '../spi/transaction-policy.js'
export type { TransactedDefinition } from '../route/route-definition.js'

/** Throws DROMEDARY_ERR_INVALID_ROUTE unless `policy` has a `run` method. @internal */
export function checkTransactionPolicy(routeId: string, policy: unknown): TransactionPolicy {
  if (
    typeof policy !== 'object' ||
    policy === null ||
    typeof (policy as Partial<TransactionPolicy>).run !== 'function'
  )
    throw errors.invalidRoute(routeId, 'transacted: the policy must implement run(exchange, block)')
  return policy as TransactionPolicy
}

/**
 * Inside a block, a failing step is not redelivered or dead-lettered on its own: the block ends at its first
 * failure and the policy rolls back. No clause ever matches here, so the host is never used.
 * @internal
 */
export const BLOCK_ERROR_HANDLER = new ErrorHandler([], {
  mayRedeliver: () => false,
  canHandBack: () => false,
  sleep: () => Promise.resolve(),
  producerFor: () => {
    throw new Error('unreachable: a transacted block has no dead letter of its own')
  },
  logFailure: () => undefined,
})

// After the policy rolled back, the block's failure is the failure of the transacted step itself, handled
// (redelivered, dead-lettered) by the route's error handler like that of any other step.
function raiseBlockFailure(ex: DefaultExchange): StepResult {
  if (ex.exception === undefined) return undefined
  const err = ex.exception
  ex.exception = undefined
  throw err
}

/** Compiles `.transacted(policy, block)`; `block` was compiled with BLOCK_ERROR_HANDLER. @internal */
export function compileTransacted(policy: TransactionPolicy, nodeId: string, block: Pipeline): Step {
  const steps: TransactedBlock = { run: (ex: Exchange) => block.run(ex as DefaultExchange) }
  return {
    nodeId,
    scope: true,
    run(ex) {
      const r = policy.run(ex, steps)
      if (isThenable(r)) return r.then(() => raiseBlockFailure(ex))
      return raiseBlockFailure(ex)
    },
  }
}
