import { trace, type Tracer, type TracerProvider } from '@opentelemetry/api'

/** The instrumentation scope of every span Dromedary starts. */
export const TRACER_NAME = '@dromedary/core'

/** The API's global provider: a proxy that hands out a real tracer only once an SDK registered a delegate. */
interface DelegatingProvider extends TracerProvider {
  getDelegateTracer?(name: string, version?: string): Tracer | undefined
}

/**
 * The tracer of the registered SDK, or `undefined` when none is registered (the API alone): then Dromedary
 * starts no span and allocates no context per exchange. Asked when a route starts, not per exchange, so an SDK
 * must be registered before the context starts (as the OpenTelemetry docs ask of every instrumentation).
 */
export function recordingTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider() as DelegatingProvider
  // Duck-typed, not `instanceof`: a second copy of the API registers its own proxy class under the same key.
  if (typeof provider.getDelegateTracer === 'function') return provider.getDelegateTracer(TRACER_NAME)
  return provider.getTracer(TRACER_NAME)
}

/**
 * The tracing state of one route: its tracer while tracing is on, else `undefined`. Refreshed each time the
 * route starts; the hot path reads one field. @internal
 */
export class RouteTracing {
  tracer: Tracer | undefined = undefined

  refresh(): void {
    this.tracer = recordingTracer()
  }
}
