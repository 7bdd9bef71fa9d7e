import type { StepDefinition } from '../route/route-definition.js'
import type { Route } from '../route/route.js'

/** A configuration warning found at `start()`. @internal */
export interface LintWarning {
  readonly key: string
  readonly routeId: string
  readonly message: string
}

/**
 * Warns about a route fed by an acknowledging consumer (one that hands work back, AMQP) that hands off to
 * `seda:` without `waitForTaskToComplete=always`: the message is acknowledged at the queue, so a forced stop
 * that drops the queue loses it (SPEC §1).
 * @internal
 */
export function lintRoutes(routes: readonly Route[]): LintWarning[] {
  const out: LintWarning[] = []
  for (const r of routes) {
    if (r.consumer.handsBack !== true) continue
    for (const uri of sedaTargets(r.definition.steps)) {
      if (/[?&]waitForTaskToComplete=always(?:&|$)/.test(uri)) continue
      out.push({
        key: `seda-handoff:${r.id}:${uri}`,
        routeId: r.id,
        message: `Route ${r.id} acknowledges its messages when they reach ${uri}; a forced stop that drops that queue loses them. Add waitForTaskToComplete=always to acknowledge only when the work is done`,
      })
    }
  }
  return out
}

function* sedaTargets(steps: readonly StepDefinition[]): Generator<string> {
  for (const s of steps) {
    if (s.kind === 'to' || s.kind === 'wireTap') {
      if (s.uri.startsWith('seda:')) yield s.uri
    } else if (s.kind === 'multicast') {
      for (const u of s.uris) if (u.startsWith('seda:')) yield u
    } else if (s.kind === 'choice') {
      for (const w of s.whens) yield* sedaTargets(w.steps)
      if (s.otherwise !== undefined) yield* sedaTargets(s.otherwise)
    } else if (s.kind === 'split') yield* sedaTargets(s.steps)
  }
}
