/**
 * Decides which headers cross a transport boundary (Camel `HeaderFilterStrategy`). Each transport has a
 * `headerFilter` option with a documented safe default; a filter given by the user replaces the default's
 * decision for the names it is asked about. Names in the reserved namespaces never cross, whatever the filter.
 */
export interface HeaderFilter {
  /** True to let a header that arrived on the wire into the exchange. @default the transport's own rule */
  inbound?(name: string, value: unknown): boolean
  /** True to send an exchange header on the wire. @default the transport's own rule */
  outbound?(name: string, value: unknown): boolean
}

/** Header namespaces set by components only: dropped when they arrive from outside, never sent (SPEC §1). */
export const RESERVED_HEADER_PREFIXES: readonly string[] = [
  'dromedary.',
  'amqp.',
  'http.',
  'tkv.',
  // The NATS and Redis transports set these (`nats.msgId` becomes `Nats-Msg-Id`): never from outside.
  'nats.',
  'redis.',
]

/** True for a name in a reserved namespace (`dromedary.`, `amqp.`, `http.`, `tkv.`), case-insensitively. */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase()
  for (const p of RESERVED_HEADER_PREFIXES) if (lower.startsWith(p)) return true
  return false
}

/**
 * HTTP hop-by-hop and credential headers, lower-case: never forwarded by an outbound transport unless its
 * `headerFilter` says otherwise (an HTTP→AMQP route must not store the caller's `authorization` in a broker).
 */
export const UNSAFE_FORWARD_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'proxy-authorization',
  'proxy-authenticate',
  'www-authenticate',
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
])
