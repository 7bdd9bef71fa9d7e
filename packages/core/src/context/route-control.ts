import { errors } from '../errors.js'
import type { Route } from '../route/route.js'
import type { ShutdownDeadlines } from '../shutdown/deadline.js'
import { forceRoutes } from '../shutdown/force.js'
import type { ShutdownContext, ShutdownStrategy } from '../shutdown/shutdown-strategy.js'
import type { ShutdownLevel } from '../spi/component.js'
import { validateDuration } from '../uri/duration.js'
import type { ContextStatus } from './lifecycle.js'
import type { RouteLifecycle } from './route-lifecycle.js'
import type { ShutdownSequence } from './shutdown-sequence.js'

/** Options of `stopRoute`. */
export interface StopRouteOptions {
  /** Milliseconds to wait for the route's in-flight work. @default the strategy's timeout */
  timeoutMs?: number
  /** On timeout, leave the route as it was (running, or suspended) and resolve false (Camel). @default false */
  abortAfterTimeout?: boolean
}

/** What per-route control needs from its context. @internal */
export interface ControlHost {
  readonly status: ContextStatus
  readonly shutdownLevel: ShutdownLevel
  readonly lifecycle: RouteLifecycle
  readonly sequence: ShutdownSequence
  readonly strategy: ShutdownStrategy
  readonly defaultTimeoutMs: number
  route(id: string): Route
}

/**
 * `startRoute`, `suspendRoute`, `resumeRoute`, `stopRoute` (SPEC §2) — the same paths the control bus and the
 * management API use, all through the route lifecycle.
 * @internal
 */
export class RouteControl {
  readonly #host: ControlHost

  constructor(host: ControlHost) {
    this.#host = host
  }

  async start(id: string): Promise<void> {
    const h = this.#host
    const r = h.route(id)
    if (h.shutdownLevel !== 'running' || h.status === 'stopping')
      throw errors.shuttingDown(`start of route "${id}"`)
    if (h.status !== 'started') throw errors.notStarted(`start route "${id}"`)
    if (r.status === 'suspended') return h.lifecycle.resume(r)
    return h.lifecycle.start(r)
  }

  async suspend(id: string): Promise<void> {
    return this.#host.lifecycle.suspend(this.#host.route(id))
  }

  async resume(id: string): Promise<void> {
    return this.#host.lifecycle.resume(this.#host.route(id))
  }

  /**
   * A graceful stop of one route through the strategy. Resolves true once the route is stopped (gracefully or
   * forced), false when the timeout hit and the route was neither forced nor aborted: it is then left as it
   * was — unless the context's own shutdown began meanwhile, which then owns it.
   */
  async stop(id: string, options: StopRouteOptions = {}): Promise<boolean> {
    const h = this.#host
    const r = h.route(id)
    const timeoutMs =
      options.timeoutMs === undefined ? h.defaultTimeoutMs : validateDuration('timeoutMs', options.timeoutMs)
    if (r.status === 'stopped') return true
    const stop = h.sequence.routeStop(timeoutMs)
    const deadlines = stop.deadlines
    const ctx = h.sequence.shutdownContext([r], deadlines, true)
    try {
      return await this.#stopThrough(r, id, timeoutMs, options, ctx, deadlines)
    } catch (err) {
      // The strategy failed: the route goes back to what it was rather than stay half-stopped.
      await this.#restore(r, ctx, deadlines)
      throw err
    } finally {
      stop.release()
    }
  }

  async #stopThrough(
    r: Route,
    id: string,
    timeoutMs: number,
    options: StopRouteOptions,
    ctx: ShutdownContext,
    deadlines: ShutdownDeadlines,
  ): Promise<boolean> {
    const h = this.#host
    const settled = await deadlines.within(
      Promise.resolve().then(() =>
        h.strategy.shutdown(ctx, {
          timeoutMs,
          forced: false,
          routeIds: [id],
          ...(options.abortAfterTimeout === undefined
            ? {}
            : { abortAfterTimeout: options.abortAfterTimeout }),
        }),
      ),
    )
    if (r.status === 'stopped') return true
    // Timed out without forcing (abortAfterTimeout, or shutdownNowOnTimeout: false): left as it was.
    if (settled !== undefined && settled.value.timedOut && !settled.value.forced) {
      await this.#restore(r, ctx, deadlines)
      // Left as it was — unless its consumer could not take work again and it was stopped instead.
      return r.state.status === 'stopped'
    }
    // A strategy that returned without stopping the route, or ran out of time: the route takes the forced path
    // (intake closed, in-flight exchanges aborted, consumer force-stopped — or left behind past the deadline).
    await forceRoutes(ctx, ctx.routes, () => undefined)
    return true
  }

  /**
   * Leaves the route as it was before the stop (running, or suspended), within the route stop's NOW deadline like
   * every other await of a stop. A consumer that cannot take work again (it failed, or overran) takes the forced
   * path instead — unless the context's own stop began, which then owns the route.
   */
  async #restore(r: Route, ctx: ShutdownContext, deadlines: ShutdownDeadlines): Promise<void> {
    const h = this.#host
    await deadlines.settle('now', `Route ${r.id} (taking work again)`, (signal) =>
      h.lifecycle.reopen(r, signal),
    )
    if (r.state.status === 'stopping' && h.status !== 'stopping')
      await forceRoutes(ctx, ctx.routes, () => undefined)
  }
}
