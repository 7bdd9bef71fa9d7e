/**
 * An OpenTelemetry SDK for one test: a tracer provider with the in-memory exporter, the AsyncLocalStorage
 * context manager and the W3C propagators, registered globally; `uninstall` unregisters all of it, so the
 * next test runs with the API alone (no SDK), as a user without tracing does.
 */
import { context, propagation, trace, type SpanContext } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base'

export interface TestTracing {
  readonly exporter: InMemorySpanExporter
  readonly provider: BasicTracerProvider
  spans(): ReadableSpan[]
  /** The one finished span with this name; fails when there is none or more than one. */
  span(name: string): ReadableSpan
  /** Resolves once a span with this name has ended (at once if one already has). */
  whenEnded(name: string): Promise<ReadableSpan>
  uninstall(): Promise<void>
}

export function installTracing(): TestTracing {
  const exporter = new InMemorySpanExporter()
  const waiters: Array<{ name: string; resolve(span: ReadableSpan): void }> = []
  const notifier: SpanProcessor = {
    onStart() {},
    onEnd(span) {
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!
        if (w.name !== span.name) continue
        waiters.splice(i, 1)
        w.resolve(span)
      }
    },
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  }
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter), notifier],
  })
  const manager = new AsyncLocalStorageContextManager().enable()
  if (!context.setGlobalContextManager(manager)) throw new Error('a context manager is already registered')
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider is already registered')
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  )
  return {
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    span(name) {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name)
      if (found.length !== 1)
        throw new Error(
          `expected one span "${name}", found ${found.length} among: ${exporter
            .getFinishedSpans()
            .map((s) => s.name)
            .join(', ')}`,
        )
      return found[0]!
    },
    whenEnded(name) {
      const done = exporter.getFinishedSpans().find((s) => s.name === name)
      if (done !== undefined) return Promise.resolve(done)
      return new Promise((resolve) => waiters.push({ name, resolve }))
    },
    async uninstall() {
      trace.disable()
      context.disable()
      propagation.disable()
      await provider.shutdown()
    },
  }
}

/** The parent span id of a finished span (`undefined` for a root). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId
}

/** A span's own ids. */
export function idsOf(span: ReadableSpan): SpanContext {
  return span.spanContext()
}

/** Spans whose parent is neither in `spans` nor one of `allowed` (remote parents, e.g. the client's). */
export function brokenParents(
  spans: readonly ReadableSpan[],
  allowed: readonly string[] = [],
): ReadableSpan[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId))
  return spans.filter((s) => {
    const p = parentOf(s)
    return p !== undefined && !ids.has(p) && !allowed.includes(p)
  })
}
