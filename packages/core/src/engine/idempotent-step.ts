import type { IdempotentConsumerDefinition } from '../route/route-definition.js'
import type { Pipeline } from './pipeline.js'
import { isThenable, STOP, type Step, type StepResult } from './step.js'
import { errors, messageOf } from '../errors.js'
import type { DefaultExchange, Exchange } from '../exchange/exchange.js'
import type { IdempotentRepository } from '../spi/idempotent-repository.js'
import type { Logger } from '../spi/logger.js'

/** Header set to `true` on a duplicate that an idempotent consumer with `skipDuplicate: false` lets through. */
export const DUPLICATE_HEADER = 'dromedary.duplicate'

/** Options of `.idempotentConsumer(keyFn, options)` (Camel's idempotent consumer). */
export interface IdempotentConsumerOptions {
  /** Where the keys of processed messages are kept: `memoryIdempotentRepository()`, Redis, PostgreSQL. */
  repository: IdempotentRepository
  /**
   * Add the key before the rest of the route runs (a concurrent duplicate is caught at once); `false` checks
   * `contains` first and adds the key only once the exchange completed. @default true
   */
  eager?: boolean
  /** Skip the rest of the route for a duplicate; `false` runs it with header `dromedary.duplicate` = true. @default true */
  skipDuplicate?: boolean
  /** Remove an eagerly added key when the exchange fails, so a redelivery is processed again. @default true */
  removeOnFailure?: boolean
}

/** Validates the builder's arguments into a definition; throws DROMEDARY_ERR_INVALID_ROUTE. @internal */
export function idempotentConsumerDefinition(
  routeId: string,
  keyFn: unknown,
  options: IdempotentConsumerOptions,
): IdempotentConsumerDefinition {
  const bad = (why: string) => errors.invalidRoute(routeId, `idempotentConsumer: ${why}`)
  if (typeof keyFn !== 'function') throw bad('the key must be a function of the exchange')
  if (typeof options !== 'object' || options === null) throw bad('options with a repository are required')
  const repo = options.repository as Partial<IdempotentRepository> | undefined
  if (
    typeof repo !== 'object' ||
    repo === null ||
    typeof repo.add !== 'function' ||
    typeof repo.contains !== 'function' ||
    typeof repo.remove !== 'function'
  )
    throw bad('"repository" must implement add, contains and remove')
  const flag = (name: 'eager' | 'skipDuplicate' | 'removeOnFailure'): boolean => {
    const v = options[name] ?? true
    if (typeof v !== 'boolean') throw bad(`"${name}" must be a boolean`)
    return v
  }
  return {
    kind: 'idempotentConsumer',
    keyFn: keyFn as (exchange: Exchange) => unknown,
    repository: options.repository,
    eager: flag('eager'),
    skipDuplicate: flag('skipDuplicate'),
    removeOnFailure: flag('removeOnFailure'),
  }
}

/** What the compiled step needs from its route. @internal */
export interface IdempotentConsumerHost {
  readonly routeId: string
  readonly logger: Logger
}

/**
 * Compiles an idempotent consumer. `rest` is the remainder of the route (or branch) after it: the step
 * wraps it, so it knows when the exchange's run through it ended and how (Camel runs the same work as an
 * on-completion of the unit of work). Repository answers are awaited before the exchange ends — before its
 * consumer acknowledges — and a synchronous repository costs no promise.
 * @internal
 */
export function compileIdempotentConsumer(
  def: IdempotentConsumerDefinition,
  nodeId: string,
  rest: Pipeline,
  host: IdempotentConsumerHost,
): Step {
  const { repository: repo, eager, skipDuplicate, removeOnFailure, keyFn } = def
  const { routeId, logger } = host

  const keyOf = (ex: DefaultExchange): string => {
    const key = keyFn(ex)
    if (typeof key !== 'string' || key === '') throw errors.idempotentKey(routeId, nodeId, key)
    return key
  }

  // Failures of the completion-side calls are logged, not raised: the exchange's own outcome stands (Camel).
  const report = (what: string, key: string, err: unknown): void => {
    logger.error(
      { route: routeId, nodeId, key, err },
      `idempotentConsumer ${nodeId}: ${what} of key "${key}" failed: ${messageOf(err)}`,
    )
  }
  const addAndConfirm = (key: string): unknown => {
    const added = repo.add(key)
    if (isThenable(added)) return repo.confirm === undefined ? added : added.then(() => repo.confirm!(key))
    return repo.confirm?.(key)
  }
  const attempt = (what: 'confirm' | 'remove' | 'add', key: string): StepResult => {
    let r: unknown
    try {
      r = what === 'confirm' ? repo.confirm?.(key) : what === 'remove' ? repo.remove(key) : addAndConfirm(key)
    } catch (err) {
      report(what, key, err)
      return
    }
    if (isThenable(r)) return r.then(undefined, (err: unknown) => report(what, key, err))
  }

  const finishEager = (ex: DefaultExchange, key: string): StepResult => {
    if (ex.exception === undefined) return repo.confirm === undefined ? undefined : attempt('confirm', key)
    if (removeOnFailure) return attempt('remove', key)
  }

  // Lazy: nothing was added, so a failure leaves nothing to remove (removing could drop a concurrent
  // exchange's key).
  const finishLazy = (ex: DefaultExchange, key: string): StepResult =>
    ex.exception === undefined ? attempt('add', key) : undefined

  const runRest = (ex: DefaultExchange, key: string, finish: typeof finishEager): StepResult => {
    const r = rest.run(ex)
    if (r === undefined) return finish(ex, key)
    return r.then(() => finish(ex, key))
  }

  // A duplicate let through runs the rest without touching the repository: the key belongs to the first.
  const duplicate = (ex: DefaultExchange): StepResult => {
    if (skipDuplicate) return STOP
    ex.message.headers[DUPLICATE_HEADER] = true
    return rest.run(ex)
  }

  const afterAdd = (ex: DefaultExchange, key: string, added: boolean): StepResult =>
    added ? runRest(ex, key, finishEager) : duplicate(ex)

  const afterContains = (ex: DefaultExchange, key: string, seen: boolean): StepResult =>
    seen ? duplicate(ex) : runRest(ex, key, finishLazy)

  return {
    nodeId,
    scope: true,
    run(ex) {
      const key = keyOf(ex)
      if (eager) {
        const added = repo.add(key)
        if (isThenable(added)) return added.then((a) => afterAdd(ex, key, a === true))
        return afterAdd(ex, key, added === true)
      }
      const seen = repo.contains(key)
      if (isThenable(seen)) return seen.then((s) => afterContains(ex, key, s === true))
      return afterContains(ex, key, seen === true)
    },
  }
}
