import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api'
import type { ContextEvent } from '../context/events.js'
import type { ShutdownReport } from '../shutdown/report.js'
import { recordingTracer } from './tracer.js'

/** What the shutdown span records at its start. */
export interface ShutdownStart {
  readonly contextName: string
  readonly forced: boolean
  readonly timeoutMs: number
  readonly routes: number
  readonly inflight: number
}

/** How a shutdown ended, as the span's `dromedary.shutdown.outcome` attribute and last event. */
export function outcomeOf(report: ShutdownReport): 'graceful' | 'timed-out' | 'forced' {
  if (report.graceful) return 'graceful'
  return report.timedOut ? 'timed-out' : 'forced'
}

/**
 * The `shutdown` span of a context: one event per lifecycle step (NOTICE, each route stopped, NOW, the
 * outcome), the counts as attributes, and the routes whose exchanges were aborted. @internal
 */
export class ShutdownSpan {
  readonly #span: Span
  readonly #inflight: number

  private constructor(span: Span, inflight: number) {
    this.#span = span
    this.#inflight = inflight
  }

  /** A started span, or `undefined` when no OpenTelemetry SDK is registered. */
  static start(s: ShutdownStart): ShutdownSpan | undefined {
    const tracer = recordingTracer()
    if (tracer === undefined) return undefined
    const span = tracer.startSpan('shutdown', {
      kind: SpanKind.INTERNAL,
      // A root of its own: the shutdown is not part of whatever request happened to call stop().
      root: true,
      attributes: {
        'dromedary.context.name': s.contextName,
        'dromedary.shutdown.forced_requested': s.forced,
        'dromedary.shutdown.timeout_ms': s.timeoutMs,
        'dromedary.shutdown.routes': s.routes,
        'dromedary.shutdown.inflight_at_start': s.inflight,
      },
    })
    return new ShutdownSpan(span, s.inflight)
  }

  /** Records a lifecycle event of the context as a span event. */
  event(e: ContextEvent): void {
    const span = this.#span
    switch (e.type) {
      case 'shutdown-notice':
        span.addEvent('notice', { 'dromedary.shutdown.seconds_until_now': e.secondsUntilNow })
        return
      case 'route-stopped':
        span.addEvent('route stopped', {
          'dromedary.route.id': e.routeId,
          'dromedary.route.forced': e.forced,
        })
        return
      case 'shutdown-now':
        span.addEvent('now', {
          'dromedary.shutdown.forced': e.forced,
          'dromedary.shutdown.now_budget_ms': e.milliseconds,
        })
        return
      default:
        return
    }
  }

  /** Ends the span with the report's outcome and counts; lists the routes whose exchanges were aborted. */
  end(report: ShutdownReport): void {
    const span = this.#span
    const outcome = outcomeOf(report)
    let aborted = 0
    const abortedRoutes: string[] = []
    for (const r of report.routes) {
      if (r.aborted <= 0) continue
      aborted += r.aborted
      abortedRoutes.push(r.id)
      span.addEvent('exchanges aborted', {
        'dromedary.route.id': r.id,
        'dromedary.shutdown.aborted': r.aborted,
      })
    }
    span.addEvent(outcome, { 'dromedary.shutdown.duration_ms': report.durationMs })
    span.setAttributes({
      'dromedary.shutdown.outcome': outcome,
      'dromedary.shutdown.forced': report.forced,
      'dromedary.shutdown.timed_out': report.timedOut,
      'dromedary.shutdown.duration_ms': report.durationMs,
      'dromedary.shutdown.aborted': aborted,
      // Of the exchanges in flight when the shutdown began, those not aborted (they completed or failed).
      'dromedary.shutdown.completed': Math.max(0, this.#inflight - aborted),
      'dromedary.shutdown.routes_stopped': report.routes.length,
      'dromedary.shutdown.aborted_routes': abortedRoutes,
    })
    if (outcome !== 'graceful') span.setStatus({ code: SpanStatusCode.ERROR, message: `shutdown ${outcome}` })
    span.end()
  }
}
