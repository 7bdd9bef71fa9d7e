import { hasSubscribers } from 'node:diagnostics_channel'
import { injectTraceHeaders, type Exchange } from '@dromedary/core'

/** The channel fetch (undici) publishes each new request on; the undici auto-instrumentation listens to it. */
const REQUEST_CREATE = 'undici:request:create'

const headersSetter = {
  set(carrier: Headers, key: string, value: string): void {
    carrier.set(key, value)
  },
}

/**
 * Writes the sending span's trace headers into an outbound request, unless something listens to fetch's
 * request channel: that is the undici auto-instrumentation, which adds its own (a child of our span) by
 * appending — both would make a `traceparent` with two values, which no propagator accepts.
 */
export function injectRequestTraceHeaders(exchange: Exchange, headers: Headers): void {
  if (hasSubscribers(REQUEST_CREATE)) return
  injectTraceHeaders(exchange, headers, headersSetter)
}
