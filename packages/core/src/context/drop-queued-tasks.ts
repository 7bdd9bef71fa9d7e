import type { WorkerGroup } from '../async/worker-group.js'
import type { Route } from '../route/route.js'
import type { Logger } from '../spi/logger.js'

/**
 * A forced stop drops the route's tasks still queued on worker groups, logs how many, counts them aborted.
 * @internal
 */
export function dropQueuedTasks(route: Route, groups: Iterable<WorkerGroup>, logger: Logger): void {
  if (route.asyncPending === 0) return
  let dropped = 0
  const names: string[] = []
  for (const g of groups) {
    const r = g.dropQueued('forced shutdown', route)
    if (r.dropped === 0) continue
    dropped += r.dropped
    route.aborted += r.aborted
    names.push(g.name)
  }
  if (dropped > 0)
    logger.warn(
      { route: route.id, dropped, groups: names },
      `Forced stop of ${route.id} dropped ${dropped} queued async tasks from worker groups [${names.join(', ')}]`,
    )
}
