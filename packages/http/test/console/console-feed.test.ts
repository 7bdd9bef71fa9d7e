import { afterEach, describe, expect, it } from 'vitest'
import {
  createContext,
  type DefaultShutdownStrategy,
  type IntegrationContext,
  type RouteDsl,
} from '@dromedary/core'
import { ConsoleFeed, type ConsoleFeedOptions } from '../../src/management/console-feed.js'
import type { LifecycleMessage, SnapshotMessage } from '../../src/management/console-wire.js'
import { deferred } from '../support.js'
import { watchReadable, type SseWatcher } from './sse-client.js'

const contexts: IntegrationContext[] = []
const feeds: ConsoleFeed[] = []

afterEach(async () => {
  for (const f of feeds.splice(0)) await f.close()
  for (const c of contexts.splice(0)) await c.stop({ timeoutMs: 1000 })
})

async function started(
  routes: (r: RouteDsl) => void,
  options: Parameters<typeof createContext>[0] = {},
): Promise<IntegrationContext> {
  const ctx = createContext({ logger: false, ...options })
  await ctx.addRoutes(routes)
  contexts.push(ctx)
  await ctx.start()
  return ctx
}

function feedOf(ctx: IntegrationContext, options: ConsoleFeedOptions = {}): ConsoleFeed {
  const feed = new ConsoleFeed(ctx, { intervalMs: 20, ...options })
  feeds.push(feed)
  return feed
}

function listen(feed: ConsoleFeed, lastEventId?: string): { watcher: SseWatcher; ended: Promise<void> } {
  const stream = feed.open(lastEventId)
  if (stream === undefined) throw new Error('the feed refused a stream')
  return watchReadable(stream.body)
}

const routeOf = (s: SnapshotMessage, id: string) => s.routes.find((r) => r.id === id)

describe('console feed', () => {
  it('reads rate, percentiles and outcomes of each route from the metrics registry, under a custom prefix', async () => {
    const ctx = await started(
      (r) => {
        r.from('direct:work')
          .routeId('work')
          .setBody(() => 'done')
        r.from('direct:fail')
          .routeId('fail')
          .process(() => {
            throw new Error('boom')
          })
      },
      { metrics: { prefix: 'app_' } },
    )
    const { watcher } = listen(feedOf(ctx))
    await watcher.nextJson<SnapshotMessage>('snapshot')
    for (let i = 0; i < 25; i++) await ctx.producer().send('direct:work', i)
    await ctx
      .producer()
      .send('direct:fail', 0)
      .catch(() => undefined)
    const s = await watcher.nextJson<SnapshotMessage>('snapshot', (x) => routeOf(x, 'work')?.completed === 25)
    const work = routeOf(s, 'work')!
    expect(work.p50).not.toBeNull()
    expect(work.p50!).toBeLessThanOrEqual(work.p99!)
    expect(work.p99!).toBeLessThanOrEqual(0.05)
    expect(routeOf(s, 'fail')).toMatchObject({ completed: 0, failed: 1, aborted: 0 })
    const rated = await watcher.nextJson<SnapshotMessage>(
      'snapshot',
      (x) => (routeOf(x, 'work')?.history.length ?? 0) >= 2,
    )
    expect(routeOf(rated, 'work')!.history.some((rate) => rate > 0)).toBe(true)
  })

  it('lists the worker groups with their busy workers and queued tasks', async () => {
    const ctx = await started(
      (r) =>
        r
          .from('direct:a')
          .routeId('a')
          .setBody(() => 'a'),
      {
        workerGroups: { payments: { workers: 2 } },
      },
    )
    const { watcher } = listen(feedOf(ctx))
    const s = await watcher.nextJson<SnapshotMessage>('snapshot', (x) => x.workerGroups.length > 0)
    expect(s.workerGroups).toEqual([
      { name: 'default', busy: 0, queued: 0 },
      { name: 'payments', busy: 0, queued: 0 },
    ])
  })

  it('lists routes and in-flight exchanges with null figures when metrics are off', async () => {
    const gate = deferred()
    const ctx = await started(
      (r) =>
        r
          .from('direct:slow')
          .routeId('slow')
          .process(() => gate.promise),
      { metrics: false },
    )
    const sending = ctx.producer().send('direct:slow', 1)
    const { watcher } = listen(feedOf(ctx))
    const s = await watcher.nextJson<SnapshotMessage>('snapshot', (x) => x.inflight.size === 1)
    expect(routeOf(s, 'slow')).toMatchObject({
      inflight: 1,
      completed: null,
      rate: null,
      p50: null,
      history: [],
    })
    expect(s.inflight.oldest[0]).toMatchObject({ atRouteId: 'slow' })
    expect(s.workerGroups).toEqual([])
    gate.resolve()
    await sending
  })

  it('replays the lifecycle events so far to a new client, and only those after its Last-Event-ID', async () => {
    const ctx = createContext({ logger: false })
    contexts.push(ctx)
    await ctx.addRoutes((r) => {
      r.from('direct:x').routeId('x').to('log:x')
      r.from('direct:y').routeId('y').to('log:y')
    })
    const feed = feedOf(ctx)
    await ctx.start()
    const first = listen(feed).watcher
    await first.nextJson('snapshot')
    const all = first.json<LifecycleMessage>('lifecycle')
    expect(all.map((m) => m.event.type)).toEqual([
      'context-starting',
      'route-started',
      'route-started',
      'context-started',
    ])
    expect(first.events.filter((e) => e.event === 'lifecycle').map((e) => e.id)).toEqual(['1', '2', '3', '4'])
    const later = listen(feed, '2').watcher
    await later.nextJson('snapshot')
    expect(later.json<LifecycleMessage>('lifecycle').map((m) => m.seq)).toEqual([3, 4])
    const garbage = listen(feed, '2abc; drop table').watcher
    await garbage.nextJson('snapshot')
    expect(garbage.json<LifecycleMessage>('lifecycle')).toHaveLength(4)
  })

  it('records each route’s load with NOTICE, route stops and NOW, then ends every stream after context-stopped', async () => {
    const gate = deferred()
    const ctx = await started((r) => {
      r.from('seda:jobs')
        .routeId('jobs')
        .process(() => gate.promise)
      r.from('direct:idle').routeId('idle').to('log:idle')
    })
    await ctx.producer().send('seda:jobs', 1)
    const feed = feedOf(ctx)
    const { watcher, ended } = listen(feed)
    await watcher.nextJson<SnapshotMessage>('snapshot', (s) => s.inflight.size === 1)
    const stopping = ctx.stop({ timeoutMs: 5000 })
    const notice = await watcher.nextJson<LifecycleMessage>(
      'lifecycle',
      (m) => m.event.type === 'shutdown-notice',
    )
    expect(notice.load).toContainEqual({ id: 'jobs', inflight: 1, pending: 0 })
    gate.resolve()
    await stopping
    await ended
    const types = watcher.json<LifecycleMessage>('lifecycle').map((m) => m.event.type)
    expect(types.slice(types.indexOf('shutdown-notice'))).toEqual(
      expect.arrayContaining([
        'shutdown-notice',
        'route-stopped',
        'route-stopped',
        'shutdown-now',
        'context-stopped',
      ]),
    )
    expect(types[types.length - 1]).toBe('context-stopped')
    const last = watcher.events[watcher.events.length - 1]!
    expect(last.event).toBe('snapshot')
    const final = JSON.parse(last.data) as SnapshotMessage
    expect(final.context.status).toBe('stopped')
    expect(final.routes.map((r) => r.status)).toEqual(['stopped', 'stopped'])
    expect(routeOf(final, 'jobs')!.completed).toBe(1)
    expect(feed.clients).toBe(0)
  })

  it('gives a client that connects after the stop the whole story, then ends its stream', async () => {
    const ctx = await started((r) => r.from('direct:x').routeId('x').to('log:x'))
    const feed = feedOf(ctx)
    await ctx.stop()
    const { watcher, ended } = listen(feed)
    await ended
    const types = watcher.json<LifecycleMessage>('lifecycle').map((m) => m.event.type)
    expect(types[0]).toBe('shutdown-notice')
    expect(types[types.length - 1]).toBe('context-stopped')
    expect(watcher.events[watcher.events.length - 1]!.event).toBe('snapshot')
  })

  it('stops sampling when the last client leaves, and refuses streams once closed', async () => {
    const ctx = await started((r) => r.from('direct:x').routeId('x').to('log:x'))
    const feed = feedOf(ctx)
    const stream = feed.open(undefined)!
    const { watcher } = watchReadable(stream.body)
    await watcher.nextJson('snapshot')
    expect(feed.clients).toBe(1)
    stream.destroy()
    await new Promise((resolve) => stream.body.once('close', resolve))
    expect(feed.clients).toBe(0)
    const { ended } = listen(feed)
    await feed.close()
    await ended
    expect(feed.open(undefined)).toBeUndefined()
    expect(feed.clients).toBe(0)
  })

  it('keeps the milestones in a full replay log and thins out progress events for late clients', async () => {
    const gate = deferred()
    const ctx = createContext({ logger: false })
    contexts.push(ctx)
    await ctx.addRoutes((r) =>
      r
        .from('seda:jobs')
        .routeId('jobs')
        .process(() => gate.promise),
    )
    const feed = feedOf(ctx, { maxEvents: 6 })
    await ctx.start()
    await ctx.producer().send('seda:jobs', 1)
    const { watcher } = listen(feed)
    const strategy = ctx.shutdownStrategy as DefaultShutdownStrategy
    strategy.progressIntervalMs = 10
    const stopping = ctx.stop({ timeoutMs: 5000 })
    const progress = () =>
      watcher.json<LifecycleMessage>('lifecycle').filter((m) => m.event.type === 'shutdown-progress')
    await watcher.next(() => progress().length >= 60)
    const late = listen(feed).watcher
    await late.nextJson('snapshot')
    const replayed = late.json<LifecycleMessage>('lifecycle').map((m) => m.event.type)
    expect(replayed).toHaveLength(6)
    expect(replayed.slice(0, 3)).toEqual(['context-starting', 'context-started', 'shutdown-notice'])
    expect(replayed.slice(3)).toEqual(['shutdown-progress', 'shutdown-progress', 'shutdown-progress'])
    // Kept at most every 250 ms: the last two kept are that far apart although sent 10 ms apart.
    const kept = late.json<LifecycleMessage>('lifecycle').slice(4)
    expect(kept[1]!.at - kept[0]!.at).toBeGreaterThanOrEqual(250)
    gate.resolve()
    await stopping
  })
})
