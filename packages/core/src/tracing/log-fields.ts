import { context, trace } from '@opentelemetry/api'

/**
 * `trace_id` and `span_id` of the active span, for a pino `mixin`: the default logger uses it, so log lines
 * written while an exchange runs name its span. Returns a new empty object when no span is active (always,
 * without an SDK): pino merges the log call's fields into what a mixin returns. Give it to a logger of your own: `pino({ mixin: traceLogFields })`.
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getSpan(context.active())
  if (span === undefined) return {}
  const { traceId, spanId } = span.spanContext()
  return { trace_id: traceId, span_id: spanId }
}
