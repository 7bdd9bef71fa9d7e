declare const replyBrand: unique symbol
/** An opaque handle on one pending reply; only the `HttpServer` that issued it can answer it. */
export type ReplyHandle = { readonly [replyBrand]: true }

declare const arrivalBrand: unique symbol
/** An opaque handle on a request whose headers arrived and whose body is still arriving. */
export type Arrival = { readonly [arrivalBrand]: true }

/** Response headers a route may add. */
export type ResponseHeaders = Readonly<Record<string, string | number | string[]>>

/** What a route registers: `handle` is called once per matched request and must answer through the server. */
export interface RequestTarget {
  /**
   * The request mapped per SPEC §6: `headers` holds the lower-cased request headers (none in the reserved
   * namespaces) plus `http.method`, `http.path`, `http.query` and `http.params`; `body` is parsed per content type.
   */
  handle(headers: Record<string, unknown>, body: unknown, reply: ReplyHandle): void
  /**
   * Counts a request of this route the server answered itself: before `handle` (400 bad body, 408 too slow,
   * 413 too large, …) or at close (503, the server is going away).
   */
  rejected?(status: number): void
  /**
   * A request with a body has arrived: its headers are in, its body is still to come. True admits it: from now on
   * it is in flight (the route's drain waits for it) until it reaches `handle`, or `settled` says it never will.
   */
  admit?(arrival: Arrival): boolean
  /** The answer of an admitted request closed (answered, or its connection is gone). Called once per admission. */
  settled?(arrival: Arrival): void
}
