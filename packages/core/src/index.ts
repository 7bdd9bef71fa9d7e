// Curated public API of @dromedary/core. Nothing is re-exported wholesale.

// context
export { createContext } from './context/context.js'
export type { IntegrationContext } from './context/context.js'
export type { ContextOptions } from './context/options.js'
export type { ContextStatus } from './context/lifecycle.js'
export type { ContextEvent } from './context/events.js'
export type { ProducerTemplate } from './context/producer-template.js'
export type { RunOptions } from './context/runner.js'

// routes and exchanges
export { RouteBuilder, ChoiceBuilder } from './route/route-builder.js'
export type { RouteDsl, StepsBuilder } from './route/route-builder.js'
export type {
  RouteDefinition,
  StepDefinition,
  OnExceptionOptions,
  ExceptionMatcher,
  Predicate,
} from './route/route-definition.js'
export type { RouteInfo, RouteStatus } from './route/route.js'
export type { Exchange, Message } from './exchange/exchange.js'
export { EXCEPTION_CAUGHT, REDELIVERY_COUNTER } from './engine/error-handler.js'

// exactly-once effects
export { memoryIdempotentRepository } from './idempotent/memory-idempotent-repository.js'
export type {
  MemoryIdempotentRepository,
  MemoryIdempotentRepositoryOptions,
} from './idempotent/memory-idempotent-repository.js'
export { DUPLICATE_HEADER } from './engine/idempotent-step.js'
export type { IdempotentConsumerOptions } from './engine/idempotent-step.js'

// in-flight tracking
export type { InflightRepository, InflightExchange, BrowseOptions } from './inflight/inflight-repository.js'

// shutdown
export {
  DefaultShutdownStrategy,
  describeEndpoint,
  formatInflightExchange,
} from './shutdown/default-shutdown-strategy.js'
export type { DefaultShutdownStrategyOptions } from './shutdown/default-shutdown-strategy.js'
export { drainRoutes } from './shutdown/drain.js'
export type { DrainOptions, DrainOutcome } from './shutdown/drain.js'
export type {
  ShutdownStrategy,
  ShutdownContext,
  ShutdownOptions,
  RouteHandle,
  ShutdownProgress,
} from './shutdown/shutdown-strategy.js'
export type { ShutdownReport, RouteShutdownReport } from './shutdown/report.js'

// component SPI
export type {
  Component,
  ComponentContext,
  Consumer,
  ConsumerHost,
  Endpoint,
  EndpointUri,
  Producer,
  ShutdownLevel,
  ShutdownRunningTask,
  StopOptions,
} from './spi/component.js'
export type { Logger } from './spi/logger.js'
export type { HeaderFilter } from './spi/header-filter.js'
export { isReservedHeader, RESERVED_HEADER_PREFIXES, UNSAFE_FORWARD_HEADERS } from './spi/header-filter.js'
export { injectTraceHeaders, traceContextOf, TRACE_HEADERS } from './tracing/propagation.js'
export { traceLogFields } from './tracing/log-fields.js'
export { TRACER_NAME } from './tracing/tracer.js'
export type { IdempotentRepository } from './spi/idempotent-repository.js'
export { abortable, abortableExchange, abortReason, untilAborted, Waiter } from './spi/waiting.js'
export type { TransactionPolicy, TransactedBlock } from './spi/transaction-policy.js'
export type { MetricsFactory, CounterMetric, GaugeMetric } from './spi/metrics.js'
export type { OptionSchema, OptionSpec, ParsedOptions } from './uri/options.js'
export { validateDuration, MAX_DURATION_MS } from './uri/duration.js'
export type { MetricsOptions } from './metrics/context-metrics.js'
export type { WorkerGroupOptions } from './async/worker-group.js'
export type { MockEndpoint, AssertOptions } from './components/mock/mock-endpoint.js'

// errors
export { DromedaryError, isDromedaryError, CoreErrorCodes } from './errors.js'
export type { CoreErrorCode } from './errors.js'
