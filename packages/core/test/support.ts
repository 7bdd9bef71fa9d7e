// Shared helpers for the @dromedary/core suite (not a test file: vitest only collects *.test.ts).
import { createContext } from '@dromedary/core'
import type {
  Component,
  Consumer,
  ConsumerHost,
  ContextOptions,
  IntegrationContext,
  Logger,
} from '@dromedary/core'

const live: IntegrationContext[] = []

/** A silent context that `disposeContexts` force-stops after the test. */
export function newContext(options: ContextOptions = {}): IntegrationContext {
  const ctx = createContext({ logger: false, ...options })
  live.push(ctx)
  return ctx
}

/** Force-stops every context `newContext` created (use in `afterEach`). */
export async function disposeContexts(): Promise<void> {
  for (const ctx of live.splice(0)) {
    if (ctx.status === 'stopped') continue
    await ctx.forceStop()
  }
}

/** One captured log call. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly obj: unknown
  readonly msg: string | undefined
}

/** A logger that records every call. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const at =
    (level: LogLine['level']) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, obj, msg })
    }
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(err: unknown): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets every queued microtask and one macrotask turn run (to observe that something did NOT happen). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** What a `hostComponent` records. */
export interface HostRecorder {
  readonly component: Component
  /** The ConsumerHost of each route consuming the component, by route id. */
  readonly hosts: Map<string, ConsumerHost>
  /** `start:<routeId>`, `stop:<routeId>:<forced>`, `suspend:<routeId>`, `resume:<routeId>` in call order. */
  readonly calls: string[]
}

/**
 * A component whose consumers only hand their ConsumerHost to the test, so a test can feed a route directly.
 * `failStart` makes the consumer of that path fail in `start()`.
 */
export function hostComponent(options: { failStart?: string } = {}): HostRecorder {
  const hosts = new Map<string, ConsumerHost>()
  const calls: string[] = []
  const component: Component = {
    createEndpoint(uri) {
      uri.parseOptions({})
      return {
        uri: uri.uri,
        createConsumer(host): Consumer {
          hosts.set(host.routeId, host)
          return {
            start() {
              calls.push(`start:${host.routeId}`)
              if (uri.path === options.failStart) throw new Error(`cannot bind ${uri.path}`)
            },
            stop({ forced }) {
              calls.push(`stop:${host.routeId}:${forced}`)
            },
            suspend() {
              calls.push(`suspend:${host.routeId}`)
            },
            resume() {
              calls.push(`resume:${host.routeId}`)
            },
          }
        },
      }
    },
  }
  return { component, hosts, calls }
}

/** The value of one labelled series in the context's registry (undefined when the series does not exist). */
export async function metricValue(
  ctx: IntegrationContext,
  name: string,
  labels: Readonly<Record<string, string>>,
): Promise<number | undefined> {
  const metric = ctx.metrics?.getSingleMetric(name)
  if (metric === undefined) return undefined
  const { values } = await metric.get()
  const hit = values.find((v) =>
    Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
  )
  return hit?.value
}

/** `dromedary_exchanges_total` for one route and outcome. */
export function exchangesTotal(
  ctx: IntegrationContext,
  route: string,
  outcome: 'completed' | 'failed' | 'aborted',
): Promise<number | undefined> {
  return metricValue(ctx, 'dromedary_exchanges_total', { context: ctx.name, route, outcome })
}

/** A silent context (see `newContext`) with the routes `define` adds, started. */
export async function startedContext(
  define: Parameters<IntegrationContext['addRoutes']>[0],
  ctx: IntegrationContext = newContext(),
): Promise<IntegrationContext> {
  await ctx.addRoutes(define)
  await ctx.start()
  return ctx
}
