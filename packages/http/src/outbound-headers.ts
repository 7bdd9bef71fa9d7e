import { isReservedHeader, TRACE_HEADERS, UNSAFE_FORWARD_HEADERS, type HeaderFilter } from '@dromedary/core'

/**
 * Framing headers fetch sets itself from the request it sends: never copied from the exchange, whatever a
 * `headerFilter` says (a copied `content-length` or `transfer-encoding` would corrupt the request).
 */
const FRAMING = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'expect',
])

/** Not sent by default, beyond the shared hop-by-hop and credential list: fetch negotiates compression itself. */
const NOT_SENT_BY_DEFAULT = new Set(['accept-encoding'])

/** A valid HTTP header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * The default outbound rule: a plain header name (a token without a dot: dotted names belong to Dromedary and
 * its components) that is neither a hop-by-hop nor a credential header.
 */
function safeByDefault(lower: string): boolean {
  return !lower.includes('.') && !UNSAFE_FORWARD_HEADERS.has(lower) && !NOT_SENT_BY_DEFAULT.has(lower)
}

/**
 * The headers of an outbound request, from the exchange's: names in the reserved namespaces and framing headers
 * never; the rest as `filter.outbound` decides, else by the default rule. Values: strings, numbers, booleans and
 * string arrays (one header line each); anything else is skipped.
 */
export function outboundHeaders(
  source: Readonly<Record<string, unknown>>,
  filter: HeaderFilter | undefined,
): Headers {
  const out = new Headers()
  const asked = filter?.outbound === undefined ? undefined : filter
  for (const name of Object.keys(source)) {
    if (!TOKEN.test(name)) continue
    const lower = name.toLowerCase()
    // Trace headers are the sending span's, injected by the producer, never the exchange's (the caller's).
    if (FRAMING.has(lower) || TRACE_HEADERS.has(lower) || isReservedHeader(lower)) continue
    const value = source[name]
    if (asked === undefined ? !safeByDefault(lower) : asked.outbound!(name, value) !== true) continue
    appendValue(out, name, value)
  }
  return out
}

function appendValue(out: Headers, name: string, value: unknown): void {
  try {
    if (typeof value === 'string') out.append(name, value)
    else if (typeof value === 'number' || typeof value === 'boolean') out.append(name, String(value))
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') out.append(name, v)
  } catch {
    // A value fetch refuses (a control character): not sent, like any other header that cannot cross.
  }
}
