import { isReservedHeader, UNSAFE_FORWARD_HEADERS, type HeaderFilter } from '@dromedary/core'
import type { WireHeaders } from './nats-connection.js'

/**
 * Header names this transport never passes between the wire and the exchange, whatever the filter: core's
 * reserved namespaces, its own `nats.` namespace, and the `Nats-` headers the server acts on
 * (`Nats-Msg-Id`, `Nats-Expected-*`, `Nats-Rollup`, `Nats-TTL`, …), which only the transport sets.
 */
function isTransportOwned(name: string): boolean {
  if (isReservedHeader(name)) return true
  const lower = name.toLowerCase()
  return lower.startsWith('nats.') || lower.startsWith('nats-') || lower === 'content-type'
}

// RFC 7230 token characters, which is what NATS accepts as a header name (printable ASCII without ':').
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// A value may not break the header block.
const BAD_VALUE = /[\r\n\0]/

/**
 * Wire headers → exchange headers: drops the transport's own names, then asks `filter.inbound` (default:
 * everything else crosses, W3C `traceparent`/`tracestate`/`baggage` included).
 * @internal
 */
export function inboundHeaders(wire: WireHeaders, filter: HeaderFilter | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of wire) {
    if (isTransportOwned(name)) continue
    if (filter?.inbound !== undefined && !filter.inbound(name, value)) continue
    // Own keys only: a header named `__proto__` must stay a header, not become a prototype.
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * Exchange headers → wire headers. Never the transport's own names; by default also never HTTP hop-by-hop or
 * credential headers (`authorization`, `cookie`, …); `filter.outbound` replaces that default decision. Values
 * are sent as text (objects as JSON); names or values NATS cannot carry (a `:` or a space in the name, a line
 * break in the value) are left out.
 * @internal
 */
export function outboundHeaders(
  headers: Record<string, unknown>,
  filter: HeaderFilter | undefined,
): WireHeaders {
  const out: Array<readonly [string, string]> = []
  for (const name in headers) {
    if (!Object.hasOwn(headers, name) || isTransportOwned(name)) continue
    const value = headers[name]
    const allowed =
      filter?.outbound === undefined
        ? !UNSAFE_FORWARD_HEADERS.has(name.toLowerCase())
        : filter.outbound(name, value)
    if (!allowed || !HEADER_NAME.test(name)) continue
    const text = headerText(value)
    if (text === undefined || BAD_VALUE.test(text)) continue
    out.push([name, text])
  }
  return out
}

function headerText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'object':
      if (value === null) return undefined
      if (value instanceof Date) return value.toISOString()
      try {
        return JSON.stringify(value)
      } catch {
        return undefined
      }
    default:
      return undefined
  }
}

/** The value of header `lowerName` (given in lower case), matched case-insensitively. @internal */
export function findHeader(wire: WireHeaders, lowerName: string): string | undefined {
  for (const [k, v] of wire) if (k.length === lowerName.length && k.toLowerCase() === lowerName) return v
  return undefined
}
