import type { MetricsFactory } from '@dromedary/core'

/** A bound counter child. */
export interface Increment {
  inc(value?: number): void
}

const NOOP: Increment = { inc() {} }

/**
 * The HTTP metrics of SPEC §8 (`dromedary_http_requests_total{route,status}`,
 * `dromedary_http_rejected_total{reason}`), through the context's factory so this package never imports
 * prom-client for them. Without metrics every counter is a no-op.
 */
export class HttpMetrics {
  readonly #requests: ReturnType<MetricsFactory['counter']> | undefined
  readonly #shuttingDown: Increment

  constructor(factory: MetricsFactory | undefined) {
    if (factory === undefined) {
      this.#requests = undefined
      this.#shuttingDown = NOOP
      return
    }
    this.#requests = factory.counter(
      'http_requests_total',
      'HTTP requests answered by inbound routes, by route id and status code',
      ['route', 'status'] as const,
    )
    const rejected = factory.counter(
      'http_rejected_total',
      'HTTP requests refused with 503 because their route or server is shutting down',
      ['reason'] as const,
    )
    this.#shuttingDown = rejected.labels({ reason: 'shutting_down' })
    this.#shuttingDown.inc(0)
  }

  /** The counter child of one route and status; callers cache it. */
  requests(route: string, status: number): Increment {
    return this.#requests?.labels({ route, status: String(status) }) ?? NOOP
  }

  /** `http_rejected_total{reason="shutting_down"}`. */
  get shuttingDown(): Increment {
    return this.#shuttingDown
  }
}
