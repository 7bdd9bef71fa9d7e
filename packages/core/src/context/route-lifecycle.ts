import { errors, messageOf } from '../errors.js'
import type { Route } from '../route/route.js'
import type { ShutdownLevel } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import type { ContextEvent } from './events.js'

/** What the route lifecycle needs from its context. @internal */
export interface RouteLifecycleHost {
  readonly logger: Logger
  readonly shutdownLevel: ShutdownLevel
  /** True once the context's own shutdown began: it owns every route from then on. */
  readonly contextStopping: boolean
  emit(event: ContextEvent): void
  /** A forced stop drops the route's tasks still queued on worker groups (logged, counted aborted). */
  dropQueuedTasks(route: Route): void
}

/**
 * The one owner of route state (SPEC §2): every control path — start, suspend, resume, `stopRoute` with or
 * without abort, the context's stop, force, the control bus, the management API — changes a route's status
 * here, together with its consumer, its `route_up` gauge and its events. Control calls on one route run in
 * order; an illegal transition is refused with DROMEDARY_ERR_INVALID_STATE and changes nothing. Stops are
 * joined: a second stop of a stopping route waits for the first, and a forced stop overtakes a graceful one.
 * @internal
 */
export class RouteLifecycle {
  readonly #host: RouteLifecycleHost

  constructor(host: RouteLifecycleHost) {
    this.#host = host
  }

  /** `stopped → starting → started`; a consumer that fails to start leaves the route stopped. */
  start(r: Route): Promise<void> {
    return this.#serial(r, async () => {
      if (r.status === 'started') return
      r.state.to('starting')
      r.state.ready = true
      r.tracing.refresh()
      try {
        await r.consumer.start()
      } catch (err) {
        r.state.to('stopped')
        throw errors.routeStartFailed(r.id, err)
      }
      r.state.to('started')
      this.publish(r)
      this.#host.emit({ type: 'route-started', routeId: r.id })
    })
  }

  /** `started → suspended`: the consumer holds intake (or stops, when it cannot suspend). */
  suspend(r: Route): Promise<void> {
    return this.#serial(r, async () => {
      if (r.status === 'suspended') return
      if (r.status !== 'started') throw errors.invalidState(`route "${r.id}"`, r.status, 'suspended')
      if (r.consumer.suspend !== undefined) await r.consumer.suspend()
      else await r.consumer.stop({ forced: false })
      r.state.to('suspended')
      this.publish(r)
    })
  }

  /** `suspended → started`, only while the context runs (SPEC §2: no shutdown state is left behind). */
  resume(r: Route): Promise<void> {
    return this.#serial(r, async () => {
      if (r.status === 'started') return
      if (this.#host.shutdownLevel !== 'running' || this.#host.contextStopping)
        throw errors.shuttingDown(`resume of route "${r.id}"`)
      if (r.status !== 'suspended') throw errors.invalidState(`route "${r.id}"`, r.status, 'started')
      await this.#reopen(r, undefined)
      r.state.to('started')
      this.publish(r)
    })
  }

  /** `started | suspended → stopping`; false when the route is already stopped. Synchronous. */
  beginStop(r: Route): boolean {
    if (r.status === 'stopped') return false
    if (r.status === 'stopping') return true
    // A route still starting is stopped by `stop` once its start settled (see `stop`).
    if (r.status === 'starting') return true
    r.state.to('stopping')
    this.publish(r)
    return true
  }

  /**
   * Stops intake (`prepareShutdown`): new work is refused, started exchanges go on. Runs once per stop, plus
   * once more when a forced stop follows a graceful one (a consumer then hands back what it still holds).
   */
  async closeIntake(r: Route, forced: boolean, signal: AbortSignal): Promise<void> {
    if (r.status === 'starting') await r.state.busy.catch(() => undefined)
    if (!this.beginStop(r)) return
    const s = r.state
    if (s.preparedForced || (s.prepared && !forced)) return
    s.prepared = true
    if (forced) s.preparedForced = true
    await r.consumer.prepareShutdown?.({ forced, task: r.definition.shutdownRunningTask, signal })
  }

  /**
   * Undoes a stop that timed out (`stopRoute(id, { abortAfterTimeout: true })`): the route goes back to what it
   * was — running, or suspended. Refused (false) once the context's own shutdown began: it is never resumed
   * then (SPEC §2). `signal` is the deadline of the stop being undone.
   */
  async reopen(r: Route, signal: AbortSignal): Promise<boolean> {
    if (r.status !== 'stopping' || r.state.stopping !== undefined) return false
    if (this.#host.shutdownLevel !== 'running' || this.#host.contextStopping) return false
    const before = r.state.before
    if (before === 'started' && r.state.prepared) {
      try {
        await this.#reopen(r, signal)
      } catch (err) {
        // It cannot be left as it was; it stays `stopping` (intake closed) for the caller to force.
        this.#host.logger.error(
          { err, route: r.id },
          `Route ${r.id} could not take work again: ${messageOf(err)}`,
        )
        return false
      }
    }
    // The context may have begun stopping while the consumer reopened: it owns the route now.
    if (this.#host.contextStopping || r.status !== 'stopping') return false
    r.state.to(before)
    this.publish(r)
    return true
  }

  /**
   * Stops the consumer: `stopping → stopped`. A forced stop hands back or drops what is not finished; either
   * way, what the consumer still held and no longer holds is counted as aborted. Joins a stop in progress,
   * unless this one is forced and that one was not.
   */
  async stop(r: Route, forced: boolean, signal: AbortSignal): Promise<void> {
    if (r.status === 'starting') await r.state.busy.catch(() => undefined)
    if (!this.beginStop(r)) return
    const running = r.state.stopping
    if (running !== undefined && (running.forced || !forced)) return running.promise
    const promise = this.#stopConsumer(r, forced, signal)
    r.state.stopping = { promise, forced }
    return promise
  }

  /** Marks a route stopped whose consumer overran its deadline and was left behind. */
  abandon(r: Route): void {
    if (r.status === 'stopped') return
    if (r.status === 'started' || r.status === 'suspended') r.state.to('stopping')
    this.#stopped(r, true)
  }

  /** `dromedary_route_up`: 1 while the route takes work and its consumer is ready, else 0. */
  publish(r: Route): void {
    r.metrics.up(r.status === 'started' && r.state.ready ? 1 : 0)
  }

  async #stopConsumer(r: Route, forced: boolean, signal: AbortSignal): Promise<void> {
    const pendingOf = () => r.consumer.pendingExchanges?.() ?? 0
    const before = pendingOf()
    let failed: { readonly err: unknown } | undefined
    try {
      await r.consumer.stop({ forced, signal })
    } catch (err) {
      // A graceful stop that failed is followed by a forced one. A forced stop is the last word: the route is
      // stopped all the same (never left `stopping` with nothing in progress), and the failure still reported.
      if (!forced) throw err
      failed = { err }
    }
    // What the consumer held and let go of without running it: a queue it dropped (seda) or messages it handed
    // back (AMQP). Never silent: counted as aborted in the report and the metrics.
    const dropped = Math.max(0, before - pendingOf())
    if (dropped > 0) {
      r.aborted += dropped
      r.metrics.dropped(dropped)
    }
    if (forced) this.#host.dropQueuedTasks(r)
    await r.consumer.afterShutdown?.()
    this.#stopped(r, forced)
    if (failed !== undefined) throw failed.err
  }

  #stopped(r: Route, forced: boolean): void {
    if (r.status === 'stopped') return
    r.state.to('stopped')
    this.publish(r)
    this.#host.emit({ type: 'route-stopped', routeId: r.id, forced })
  }

  /**
   * Takes work again after `suspend` (or, given the stop's deadline `signal`, after `prepareShutdown`).
   */
  async #reopen(r: Route, afterPrepare: AbortSignal | undefined): Promise<void> {
    const c = r.consumer
    if (c.resume !== undefined) return c.resume()
    // Without `resume`, suspend stopped the consumer; after `prepareShutdown` it must be stopped first — like
    // every stop of a shutdown, with a deadline signal.
    if (afterPrepare !== undefined) await c.stop({ forced: false, signal: afterPrepare })
    await c.start()
  }

  #serial(r: Route, op: () => Promise<void>): Promise<void> {
    const next = r.state.busy.catch(() => undefined).then(op)
    r.state.busy = next
    return next
  }
}
