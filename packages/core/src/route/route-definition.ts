import type { Exchange } from '../exchange/exchange.js'
import type { ShutdownRunningTask } from '../spi/component.js'
import type { IdempotentRepository } from '../spi/idempotent-repository.js'
import type { TransactionPolicy } from '../spi/transaction-policy.js'

/** A predicate over an exchange (may be async). */
export type Predicate<TBody = unknown> = (exchange: Exchange<TBody>) => boolean | Promise<boolean>

type AnyFn = (exchange: Exchange) => unknown

/** Options of `onException` (SPEC §3.2). */
export interface OnExceptionOptions {
  /** @default 0 */
  maximumRedeliveries?: number
  /** @default 1000 */
  redeliveryDelayMs?: number
  /** @default 1 */
  backoffMultiplier?: number
  /** Clear the exception after the dead letter (or when there is none) so the exchange completes. @default false, true when `to` is given */
  handled?: boolean
  /** Dead-letter URI the exchange is sent to once redeliveries are exhausted. */
  to?: string
}

/** Which errors an `onException` clause applies to. */
export type ExceptionMatcher =
  (new (...args: never[]) => Error) | ((err: unknown) => boolean) | string /* a DromedaryError code */

/** @internal */
export interface OnExceptionDefinition {
  readonly matcher: ExceptionMatcher | undefined
  readonly options: Readonly<Required<Omit<OnExceptionOptions, 'to'>>> & { readonly to: string | undefined }
}

/** One step of a route, as plain data. */
export type StepDefinition =
  | { readonly kind: 'process'; readonly fn: AnyFn }
  | { readonly kind: 'transform'; readonly fn: AnyFn }
  | { readonly kind: 'setBody'; readonly value: unknown }
  | { readonly kind: 'setHeader'; readonly name: string; readonly value: unknown }
  | { readonly kind: 'removeHeader'; readonly name: string }
  | { readonly kind: 'filter'; readonly predicate: AnyFn }
  | {
      readonly kind: 'choice'
      readonly whens: ReadonlyArray<{ readonly predicate: AnyFn; readonly steps: readonly StepDefinition[] }>
      readonly otherwise: readonly StepDefinition[] | undefined
    }
  | {
      readonly kind: 'split'
      readonly fn: AnyFn
      readonly steps: readonly StepDefinition[]
      readonly parallel: boolean
    }
  | { readonly kind: 'to'; readonly uri: string }
  | { readonly kind: 'toD'; readonly fn: AnyFn }
  | { readonly kind: 'wireTap'; readonly uri: string }
  | { readonly kind: 'multicast'; readonly uris: readonly string[] }
  | { readonly kind: 'log'; readonly message: unknown }
  | { readonly kind: 'marshal'; readonly format: 'json' }
  | { readonly kind: 'unmarshal'; readonly format: 'json' }
  | { readonly kind: 'throttle'; readonly count: number; readonly perMs: number }
  | { readonly kind: 'delay'; readonly ms: number | AnyFn }
  | { readonly kind: 'asyncRoute'; readonly uri: string; readonly delayMs: number }
  | { readonly kind: 'asyncTask'; readonly uri: string; readonly group: string }
  | { readonly kind: 'asyncTaskData'; readonly uri: string; readonly fn: AnyFn; readonly group: string }
  | { readonly kind: 'emitEvent'; readonly type: string; readonly key: string; readonly valueFn: AnyFn }
  | IdempotentConsumerDefinition
  | TransactedDefinition<readonly StepDefinition[]>

/** The kinds of step, as used in node ids (`process1`, `to2`). */
export type StepKind = StepDefinition['kind']

/** A route as plain data: what the builder produces and the runtime compiles. */
export interface RouteDefinition {
  id: string | undefined
  readonly from: string
  startupOrder: number | undefined
  autoStartup: boolean
  shutdownRoute: 'default' | 'defer'
  shutdownRunningTask: ShutdownRunningTask
  /** Entries of the route's `toD` producer cache (Camel `cacheSize`). */
  toDCacheSize: number
  readonly onExceptions: OnExceptionDefinition[]
  readonly steps: StepDefinition[]
}

/** A new, empty route definition. */
export function createRouteDefinition(from: string): RouteDefinition {
  return {
    id: undefined,
    from,
    startupOrder: undefined,
    autoStartup: true,
    shutdownRoute: 'default',
    shutdownRunningTask: 'completeCurrentTaskOnly',
    toDCacheSize: 1000,
    onExceptions: [],
    steps: [],
  }
}

/** An idempotent consumer as plain data in a route definition. @internal */
export interface IdempotentConsumerDefinition {
  readonly kind: 'idempotentConsumer'
  readonly keyFn: (exchange: Exchange) => unknown
  readonly repository: IdempotentRepository
  readonly eager: boolean
  readonly skipDuplicate: boolean
  readonly removeOnFailure: boolean
}

/** A `.transacted` block as plain data in a route definition. @internal */
export interface TransactedDefinition<TSteps> {
  readonly kind: 'transacted'
  readonly policy: TransactionPolicy
  readonly steps: TSteps
}
