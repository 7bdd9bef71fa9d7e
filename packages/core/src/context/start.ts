import { messageOf } from '../errors.js'
import type { Route } from '../route/route.js'
import type { Component, ComponentContext, Producer } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import type { ContextEvent } from './events.js'
import type { Lifecycle } from './lifecycle.js'
import type { RouteLifecycle } from './route-lifecycle.js'

/** What starting needs from the context. @internal */
export interface StartHost {
  readonly lifecycle: Lifecycle
  readonly routeLifecycle: RouteLifecycle
  readonly routes: readonly Route[]
  readonly componentContext: ComponentContext
  readonly logger: Logger
  /** How long the rollback of a failed start may take to close what it opened. */
  readonly nowBudgetMs: number
  components(): Iterable<readonly [string, Component]>
  producers(): Iterable<readonly [string, Producer]>
  emit(event: ContextEvent): void
}

/**
 * Starts components, then producers, then routes in startup order (SPEC §2). A route that fails to start
 * stops the ones already started and closes the components again (bounded), and the start rejects.
 * @internal
 */
export async function startContext(h: StartHost): Promise<void> {
  h.emit({ type: 'context-starting' })
  const started: Route[] = []
  try {
    for (const [, c] of h.components()) await c.start?.(h.componentContext)
    for (const [, p] of h.producers()) await p.start?.()
    for (const r of h.routes) {
      if (!r.definition.autoStartup) continue
      await h.routeLifecycle.start(r)
      started.push(r)
    }
  } catch (err) {
    const signal = AbortSignal.timeout(h.nowBudgetMs)
    const safely = async (what: string, fn: () => unknown) => {
      try {
        await Promise.race([fn(), new Promise((resolve) => signal.addEventListener('abort', resolve))])
      } catch (e) {
        h.logger.error({ err: e }, `${what} failed while rolling back a failed start: ${messageOf(e)}`)
      }
    }
    for (const r of started.reverse())
      await safely(`Stopping route ${r.id}`, () => h.routeLifecycle.stop(r, true, signal))
    // Whatever the components opened (connections, servers) is closed again.
    for (const [scheme, c] of h.components())
      await safely(`Closing component ${scheme}`, () => c.close?.({ forced: true, signal }))
    h.lifecycle.to('stopped')
    throw err
  }
  h.lifecycle.to('started')
  h.emit({ type: 'context-started' })
}
