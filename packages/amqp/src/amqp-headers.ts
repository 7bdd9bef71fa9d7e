/**
 * Which headers cross the AMQP boundary (Camel `HeaderFilterStrategy`). Inbound, every application header
 * becomes an exchange header except the reserved namespaces (`dromedary.`, `amqp.`, `http.`, `tkv.`: only
 * components set those). Outbound, only application headers are published: never the reserved namespaces,
 * never names the broker or a plugin acts on (`CC`, `BCC`, every `x-` header such as `x-delivery-count`,
 * `x-death`, `x-dead-letter-*`), never HTTP hop-by-hop or credential headers. A `headerFilter` given to the
 * component replaces that decision for the names it is asked about; reserved names never cross.
 */
import { isReservedHeader, TRACE_HEADERS, UNSAFE_FORWARD_HEADERS, type HeaderFilter } from '@dromedary/core'

/** Headers RabbitMQ routes by when they are published (sender-selected distribution), lower-case. */
const BROKER_ROUTING_HEADERS: ReadonlySet<string> = new Set(['cc', 'bcc'])

/**
 * The default outbound rule: false for `CC`/`BCC`, any `x-` header and the HTTP hop-by-hop and credential
 * headers (case-insensitive). Reserved names are refused before any rule is asked.
 */
export function isSafeToPublish(name: string): boolean {
  const lower = name.toLowerCase()
  return !lower.startsWith('x-') && !BROKER_ROUTING_HEADERS.has(lower) && !UNSAFE_FORWARD_HEADERS.has(lower)
}

/**
 * The default rules as a `HeaderFilter`: every inbound header is let in, outbound ones per
 * `isSafeToPublish`. Reserved names are dropped before a filter is asked, so they are not mentioned here.
 * @example amqpComponent({ url, headerFilter: {
 *   outbound: (name, value) => name === 'x-request-id' || defaultAmqpHeaderFilter.outbound!(name, value) } })
 */
export const defaultAmqpHeaderFilter: Readonly<Required<HeaderFilter>> = Object.freeze({
  inbound: () => true,
  outbound: (name: string) => isSafeToPublish(name),
})

// The reserved namespaces all contain a dot: most application header names do not, and skip the full check.
function reserved(name: string): boolean {
  return name.includes('.') && isReservedHeader(name)
}

/** Values an AMQP field table cannot carry; never published, whatever the filter says. */
function unencodable(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol'
}

/**
 * The compiled header rules of one component. `inbound` runs per delivery and `outbound` per publish, so
 * both are plain loops over own keys (an own `__proto__` key is never copied: it would set a prototype).
 * @internal
 */
export class AmqpHeaderRules {
  readonly #inbound: ((name: string, value: unknown) => boolean) | undefined
  readonly #outbound: (name: string, value: unknown) => boolean

  constructor(filter: HeaderFilter | undefined) {
    // Called as methods of the filter, so a filter written as a class keeps its `this`.
    this.#inbound = filter?.inbound === undefined ? undefined : (name, value) => filter.inbound!(name, value)
    this.#outbound =
      filter?.outbound === undefined ? isSafeToPublish : (name, value) => filter.outbound!(name, value)
  }

  /** The exchange headers of a delivery's application headers (a new object the caller may extend). */
  inbound(headers: Record<string, unknown> | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    if (headers === undefined) return out
    const accept = this.#inbound
    for (const name of Object.keys(headers)) {
      if (name === '__proto__' || reserved(name)) continue
      const value = headers[name]
      if (accept !== undefined && !accept(name, value)) continue
      out[name] = value
    }
    return out
  }

  /** The application headers to publish for an exchange's headers. */
  outbound(headers: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const accept = this.#outbound
    for (const name of Object.keys(headers)) {
      const value = headers[name]
      if (name === '__proto__' || unencodable(value) || reserved(name) || !accept(name, value)) continue
      // The trace headers of the message that started the exchange: the producer injects its own span's.
      if (TRACE_HEADERS.has(name)) continue
      out[name] = value
    }
    return out
  }
}
