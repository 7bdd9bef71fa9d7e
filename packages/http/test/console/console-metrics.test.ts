import { describe, expect, it } from 'vitest'
import { ConsoleMetricsReader, type ReadableRegistry } from '../../src/management/console-metrics.js'

type Sample = { labels: Record<string, string | number>; value: number; metricName?: string }

/** A registry double holding fixed values per metric name. */
function registry(metrics: Record<string, Sample[]>): ReadableRegistry {
  return {
    getMetricsAsArray: () => Object.keys(metrics).map((name) => ({ name })),
    getSingleMetric: (name) => {
      const values = metrics[name]
      return values === undefined ? undefined : { get: () => Promise.resolve({ values }) }
    },
  }
}

const bucket = (
  prefix: string,
  context: string,
  route: string,
  le: number | string,
  value: number,
): Sample => ({
  labels: { le, context, route },
  value,
  metricName: `${prefix}exchange_duration_seconds_bucket`,
})

describe('ConsoleMetricsReader', () => {
  it('finds a custom prefix and keeps only the series of its own context', async () => {
    const reader = new ConsoleMetricsReader(
      registry({
        app_shutdown_level: [],
        app_exchanges_total: [
          { labels: { context: 'a', route: 'r', outcome: 'completed' }, value: 5 },
          { labels: { context: 'a', route: 'r', outcome: 'failed' }, value: 2 },
          { labels: { context: 'b', route: 'r', outcome: 'completed' }, value: 100 },
        ],
        app_exchange_duration_seconds: [
          bucket('app_', 'a', 'r', '+Inf', 7),
          bucket('app_', 'a', 'r', 0.01, 6),
          bucket('app_', 'a', 'r', 0.001, 1),
          bucket('app_', 'b', 'r', 0.001, 100),
          {
            labels: { context: 'a', route: 'r' },
            value: 0.3,
            metricName: 'app_exchange_duration_seconds_sum',
          },
        ],
        other_exchanges_total: [{ labels: { context: 'a', route: 'r', outcome: 'completed' }, value: 999 }],
      }),
      'a',
    )
    const reading = await reader.read()
    expect(reading.routes.get('r')).toEqual({
      completed: 5,
      failed: 2,
      aborted: 0,
      histogram: { bounds: [0.001, 0.01, Number.POSITIVE_INFINITY], counts: [1, 6, 7] },
    })
  })

  it('reads nothing without a registry or once the context series are gone', async () => {
    expect((await new ConsoleMetricsReader(undefined, 'a').read()).routes.size).toBe(0)
    const empty = await new ConsoleMetricsReader(registry({ unrelated_total: [] }), 'a').read()
    expect([empty.routes.size, empty.workerGroups]).toEqual([0, []])
  })

  it('merges the busy and queue-size gauges of each worker group, sorted by name', async () => {
    const reader = new ConsoleMetricsReader(
      registry({
        dromedary_shutdown_level: [],
        dromedary_exchanges_total: [],
        dromedary_worker_group_busy: [
          { labels: { group: 'payments' }, value: 3 },
          { labels: { group: 'default' }, value: 0 },
        ],
        dromedary_worker_group_queue_size: [{ labels: { group: 'payments' }, value: 12 }],
      }),
      'a',
    )
    expect((await reader.read()).workerGroups).toEqual([
      { name: 'default', busy: 0, queued: 0 },
      { name: 'payments', busy: 3, queued: 12 },
    ])
  })
})
