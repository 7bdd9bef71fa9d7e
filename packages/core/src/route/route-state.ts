import { errors } from '../errors.js'

/**
 * Status of one route (SPEC §2): `started` ⇔ it takes new work; `suspended` ⇔ it holds intake but keeps its
 * state; `stopped` ⇔ its consumer is stopped. `starting` and `stopping` are the transitions between them (Camel's
 * `ServiceStatus` has them too): a `stopping` route drains; it takes new work only while it defers.
 */
export type RouteStatus = 'starting' | 'started' | 'suspended' | 'stopping' | 'stopped'

// Every allowed transition, in one place. `stopping` goes back to where it came from when a route stop is
// aborted on timeout (`stopRoute(id, { abortAfterTimeout: true })`).
const TRANSITIONS: Readonly<Record<RouteStatus, readonly RouteStatus[]>> = {
  stopped: ['starting'],
  starting: ['started', 'stopped'],
  started: ['suspended', 'stopping'],
  suspended: ['started', 'stopping'],
  stopping: ['stopped', 'started', 'suspended'],
}

/**
 * The state of one route. Only `RouteLifecycle` (context/route-lifecycle.ts) changes it: every control path
 * goes through that module, so status and consumer never disagree.
 * @internal
 */
export class RouteState {
  #status: RouteStatus = 'stopped'
  /** While stopping: the status before the stop began (an aborted stop returns there). */
  before: 'started' | 'suspended' = 'started'
  /** While stopping: `prepareShutdown` has run (intake closed); `preparedForced` once a forced one ran. */
  prepared = false
  preparedForced = false
  /** False while the consumer reports it cannot take work (`ConsumerHost.setReady(false)`). */
  ready = true
  /** The transition running now (start, suspend, resume), so control calls on one route run in order. */
  busy: Promise<unknown> = Promise.resolve()
  /** The consumer stop running now, and whether it is a forced one. */
  stopping: { readonly promise: Promise<void>; readonly forced: boolean } | undefined = undefined

  constructor(readonly routeId: string) {}

  get status(): RouteStatus {
    return this.#status
  }

  /** True when the route was suspended when its stop began: its backlog is not waited for (SPEC §2). */
  get holdsBacklog(): boolean {
    return this.#status === 'suspended' || (this.#status === 'stopping' && this.before === 'suspended')
  }

  /** Moves to `next`; an illegal transition throws DROMEDARY_ERR_INVALID_STATE and changes nothing. */
  to(next: RouteStatus): void {
    if (!TRANSITIONS[this.#status].includes(next))
      throw errors.invalidState(`route "${this.routeId}"`, this.#status, next)
    if (next === 'stopping') {
      this.before = this.#status === 'suspended' ? 'suspended' : 'started'
      this.prepared = this.preparedForced = false
    }
    if (next === 'stopped') this.stopping = undefined
    this.#status = next
  }
}
