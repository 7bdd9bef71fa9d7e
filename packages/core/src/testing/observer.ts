import { DefaultShutdownStrategy } from '../shutdown/default-shutdown-strategy.js'
import type { ShutdownReport } from '../shutdown/report.js'
import type { RouteHandle, ShutdownContext, ShutdownOptions } from '../shutdown/shutdown-strategy.js'
import { within } from './waits.js'

/** One call the default strategy made on a route, with the route's counts when it returned. @internal */
export interface ShutdownCall {
  readonly call: 'deferred' | 'prepared' | 'stopped'
  readonly routeId: string
  readonly forced: boolean
  readonly inflight: number
  readonly pending: number
}

/**
 * The default shutdown strategy, watched: it records when each route's intake closed (`prepareShutdown`
 * returned) and when its consumer stopped, and can pause a graceful shutdown right after a route's intake
 * closed, so a check can feed input at exactly that point. Only public SPI: the strategy sees the context's
 * own route handles, wrapped.
 * @internal
 */
export class ObservingStrategy extends DefaultShutdownStrategy {
  readonly calls: ShutdownCall[] = []
  #gate: Promise<void> | undefined
  #waiters: Array<() => void> = []

  /** Holds the next graceful `prepareShutdown` of a route after it returned, until the returned function runs. */
  pauseAfterPrepare(): () => void {
    let open!: () => void
    this.#gate = new Promise<void>((resolve) => (open = resolve))
    return () => {
      this.#gate = undefined
      open()
    }
  }

  /** Resolves with the first call (already made or still to come) that matches. */
  async when(match: (c: ShutdownCall) => boolean, ms: number, what: string): Promise<ShutdownCall> {
    const seen = this.calls.find(match)
    if (seen !== undefined) return seen
    let check: () => void = () => undefined
    const found = new Promise<ShutdownCall>((resolve) => {
      check = () => {
        const c = this.calls.find(match)
        if (c !== undefined) resolve(c)
      }
      this.#waiters.push(check)
    })
    try {
      return await within(found, ms, () => `${what} (calls so far: ${this.#describe()})`)
    } finally {
      this.#waiters = this.#waiters.filter((w) => w !== check)
    }
  }

  override shutdown(ctx: ShutdownContext, options: ShutdownOptions): Promise<ShutdownReport> {
    return super.shutdown({ ...ctx, routes: ctx.routes.map((r) => this.#watch(r)) }, options)
  }

  #watch(r: RouteHandle): RouteHandle {
    const record = (call: ShutdownCall['call'], forced: boolean) => {
      this.calls.push({ call, routeId: r.id, forced, inflight: r.inflight(), pending: r.pending() })
      for (const w of [...this.#waiters]) w()
    }
    return {
      ...r,
      deferShutdown: () => {
        const deferred = r.deferShutdown()
        if (deferred) record('deferred', false)
        return deferred
      },
      prepareShutdown: async (o) => {
        await r.prepareShutdown(o)
        record('prepared', o.forced)
        if (!o.forced && this.#gate !== undefined) await this.#gate
      },
      stop: async (o) => {
        await r.stop(o)
        record('stopped', o.forced)
      },
    }
  }

  #describe(): string {
    if (this.calls.length === 0) return 'none'
    return this.calls.map((c) => `${c.call}${c.forced ? ' (forced)' : ''} ${c.routeId}`).join(', ')
  }
}
