import type { DefaultInflightRepository } from '../inflight/inflight-repository.js'
import type { Route } from '../route/route.js'

/**
 * Aborts every exchange created by or now in one of `routes` — their copies and built-in waits with them — in
 * one pass over what is in flight (SPEC §4.4: forcing costs O(in-flight), not O(routes × in-flight)). Each
 * newly aborted exchange is counted on its route; returns how many.
 * @internal
 */
export function abortInflight(
  inflight: DefaultInflightRepository,
  routes: readonly Route[],
  reason: string,
): number {
  if (routes.length === 0) return 0
  const byId = new Map(routes.map((r) => [r.id, r]))
  let n = 0
  for (const ex of inflight.exchanges(byId)) {
    if (!ex.abort(reason)) continue
    n++
    const r = byId.get(ex.fromRouteId) ?? byId.get(ex.atRouteId)
    if (r !== undefined) r.aborted++
  }
  return n
}
