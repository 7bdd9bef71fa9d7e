import { Counter, Gauge, type Registry } from 'prom-client'
import { DurationHistogram, type RouteSeries } from './route-series.js'

/** Per-route sampled values read at scrape time, so the hot path never touches a gauge. @internal */
export interface RouteSampler {
  routeIds(): Iterable<string>
  inflight(routeId: string): number
  pending(routeId: string): number
}

/** Worker groups sampled at scrape time. @internal */
export interface WorkerGroupSampler {
  groups(): Iterable<{ readonly name: string; readonly queued: number; readonly busy: number }>
}

/** One context's part of a shared registry's metrics. @internal */
export interface ContextPart {
  readonly context: string
  readonly sampler: RouteSampler
  readonly workers: WorkerGroupSampler
  readonly series: RouteSeries[]
  /** Hands the plain-number outcome counts to prom-client (at scrape time). */
  readonly flushes: Array<() => void>
}

const hubs = new WeakMap<Registry, Map<string, MetricsHub>>()

/**
 * The core metrics of SPEC §8 in one registry, registered once per registry and prefix: several contexts
 * sharing a registry each attach a part and write their own `context`-labelled series; a detached context's
 * series are removed.
 * @internal
 */
export class MetricsHub {
  readonly parts = new Set<ContextPart>()
  readonly exchanges: Counter<'context' | 'route' | 'outcome'>
  readonly routeUp: Gauge<'context' | 'route'>
  readonly level: Gauge<'context'>
  readonly shutdownDuration: Gauge<'context'>
  readonly forced: Counter<'context'>
  readonly dropped: Counter<'context' | 'endpoint'>

  /** The hub of `registry` for `prefix`, registering the metrics on first use. */
  static of(registry: Registry, prefix: string): MetricsHub {
    let byPrefix = hubs.get(registry)
    if (byPrefix === undefined) hubs.set(registry, (byPrefix = new Map<string, MetricsHub>()))
    let hub = byPrefix.get(prefix)
    if (hub === undefined) byPrefix.set(prefix, (hub = new MetricsHub(registry, prefix)))
    return hub
  }

  private constructor(registry: Registry, p: string) {
    const registers = [registry]
    const parts = this.parts
    this.exchanges = new Counter({
      name: `${p}exchanges_total`,
      help: 'Exchanges finished, by outcome (completed, failed, aborted)',
      labelNames: ['context', 'route', 'outcome'] as const,
      registers,
      // Outcomes are counted in plain numbers per route and handed over when scraped (see RouteSeries).
      collect() {
        for (const part of parts) for (const flush of part.flushes) flush()
      },
    })
    const sampled = (name: string, help: string, read: (s: RouteSampler, route: string) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['context', 'route'] as const,
        registers,
        collect() {
          this.reset()
          for (const { context, sampler } of parts)
            for (const route of sampler.routeIds()) this.set({ context, route }, read(sampler, route))
        },
      })
    sampled(`${p}exchanges_inflight`, 'Exchanges in flight per route', (s, r) => s.inflight(r))
    sampled(
      `${p}exchanges_pending`,
      'Exchanges taken by a consumer or queued for a worker but not started, per route',
      (s, r) => s.pending(r),
    )
    const histogram = new DurationHistogram(
      `${p}exchange_duration_seconds`,
      'Time from exchange creation to completion',
      () => Array.from(parts, (part) => part.series).flat(),
    )
    registry.registerMetric(histogram.asMetric())
    this.routeUp = new Gauge({
      name: `${p}route_up`,
      help: '1 when the route takes work (started and its consumer ready), 0 otherwise',
      labelNames: ['context', 'route'] as const,
      registers,
    })
    this.level = new Gauge({
      name: `${p}shutdown_level`,
      help: 'Shutdown level: 0 running, 1 pending (NOTICE), 2 shutdown (NOW)',
      labelNames: ['context'] as const,
      registers,
    })
    this.shutdownDuration = new Gauge({
      name: `${p}shutdown_duration_seconds`,
      help: 'Duration of the last shutdown',
      labelNames: ['context'] as const,
      registers,
    })
    this.forced = new Counter({
      name: `${p}shutdown_forced_total`,
      help: 'Shutdowns that had to force routes',
      labelNames: ['context'] as const,
      registers,
    })
    this.dropped = new Counter({
      name: `${p}messages_dropped_total`,
      help: 'Messages dropped at stop from an in-memory queue that no running route consumed',
      labelNames: ['context', 'endpoint'] as const,
      registers,
    })
    const groupGauge = (name: string, help: string, read: (g: { queued: number; busy: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['group'] as const,
        registers,
        collect() {
          this.reset()
          // Groups of the same name in several contexts add up (the `group` label has no context).
          const totals = new Map<string, number>()
          for (const part of parts)
            for (const g of part.workers.groups()) totals.set(g.name, (totals.get(g.name) ?? 0) + read(g))
          for (const [group, v] of totals) this.set({ group }, v)
        },
      })
    groupGauge(`${p}worker_group_queue_size`, 'Tasks queued in a worker group', (g) => g.queued)
    groupGauge(`${p}worker_group_busy`, 'Workers of a group running a task', (g) => g.busy)
  }

  /** Removes every series of a context that stopped (its sampled gauges and histogram go with its part). */
  detach(part: ContextPart, routes: readonly string[], endpoints: readonly string[]): void {
    this.parts.delete(part)
    const context = part.context
    for (const route of routes) {
      for (const outcome of ['completed', 'failed', 'aborted'])
        this.exchanges.remove({ context, route, outcome })
      this.routeUp.remove({ context, route })
    }
    for (const endpoint of endpoints) this.dropped.remove({ context, endpoint })
    this.level.remove({ context })
    this.shutdownDuration.remove({ context })
    this.forced.remove({ context })
  }
}
