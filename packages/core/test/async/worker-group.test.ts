import { isDromedaryError, type Exchange, type IntegrationContext } from '@dromedary/core'
import { afterEach, describe, expect, it } from 'vitest'
import { deferred, disposeContexts, flush, metricValue, newContext, type Deferred } from '../support.js'

afterEach(disposeContexts)

/**
 * Route `calls` hands every exchange to `asyncTask('direct:work', { group })`; route `work` holds each exchange
 * until the test releases it, recording how many run at once.
 */
async function pooledContext(options: { workers?: number; queueSize?: number; group?: string } = {}) {
  const group = options.group ?? 'pool'
  const ctx = newContext({
    workerGroups: {
      pool: {
        workers: options.workers ?? 2,
        ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
      },
    },
  })
  const held: Array<Deferred<void>> = []
  const started: Array<Deferred<void>> = []
  let running = 0
  let maxRunning = 0
  const nextStart = (i: number) => (started[i] ??= deferred())
  await ctx.addRoutes((r) => {
    r.from('direct:calls').routeId('calls').asyncTask('direct:work', { group }).to('mock:skipped')
    r.from('direct:work')
      .routeId('work')
      .process(async () => {
        const i = held.length
        const gate = deferred()
        held.push(gate)
        maxRunning = Math.max(maxRunning, ++running)
        nextStart(i).resolve()
        await gate.promise
        running--
      })
      .to('mock:done')
  })
  await ctx.start()
  const send = (n: number): Array<Promise<Exchange>> =>
    Array.from({ length: n }, (_, i) => ctx.producer().send('direct:calls', i))
  return {
    ctx,
    send,
    /** Resolves once the i-th task (0-based) has started running. */
    started: (i: number) => nextStart(i).promise,
    release: (i: number) => held[i]?.resolve(),
    maxRunning: () => maxRunning,
  }
}

function route(ctx: IntegrationContext, id: string) {
  return ctx.routes().find((r) => r.id === id)
}

describe('asyncTask and worker groups (Kamailio async_task_route / async_workers_group)', () => {
  it('never runs more tasks at once than the group has workers', async () => {
    const pool = await pooledContext({ workers: 2 })
    const sent = pool.send(6)
    for (let i = 0; i < 6; i++) {
      await pool.started(i)
      pool.release(i)
    }
    await Promise.all(sent)

    expect(pool.maxRunning()).toBe(2)
    expect(pool.ctx.mock('done').receivedExchanges).toHaveLength(6)
  })

  it('continues the exchange in the target route and skips the steps after asyncTask', async () => {
    const pool = await pooledContext()
    const sent = pool.send(1)
    await pool.started(0)
    pool.release(0)
    const [ex] = await Promise.all(sent)

    expect(pool.ctx.mock('done').receivedExchanges.map((e) => e.id)).toEqual([ex?.id])
    expect(pool.ctx.mock('skipped').receivedExchanges).toHaveLength(0)
  })

  it('counts queued tasks as pending of their route and running ones as in flight, each once', async () => {
    const pool = await pooledContext({ workers: 2 })
    void pool.send(6)
    await pool.started(1)

    expect(route(pool.ctx, 'calls')).toMatchObject({ inflight: 2, pending: 4 })
    expect(route(pool.ctx, 'work')).toMatchObject({ inflight: 2, pending: 0 })
  })

  it('reports queued tasks in the pending gauge and the worker group gauges', async () => {
    const pool = await pooledContext({ workers: 2 })
    void pool.send(6)
    await pool.started(1)
    const { ctx } = pool

    expect(await metricValue(ctx, 'dromedary_exchanges_pending', { route: 'calls' })).toBe(4)
    expect(await metricValue(ctx, 'dromedary_exchanges_inflight', { route: 'calls' })).toBe(2)
    expect(await metricValue(ctx, 'dromedary_worker_group_queue_size', { group: 'pool' })).toBe(4)
    expect(await metricValue(ctx, 'dromedary_worker_group_busy', { group: 'pool' })).toBe(2)
    expect(await metricValue(ctx, 'dromedary_worker_group_busy', { group: 'default' })).toBe(0)
  })

  it('shows where each exchange waits: queued and running ones in the asyncTask step, then the target step', async () => {
    const pool = await pooledContext({ workers: 1 })
    void pool.send(2)
    await pool.started(0)
    await flush()

    expect(pool.ctx.inflight.browse().map((e) => [e.atRouteId, e.nodeId])).toEqual([
      ['work', 'process1'],
      ['calls', 'asyncTask1'],
    ])
  })

  it('fails the exchange with DROMEDARY_ERR_QUEUE_FULL when the group queue is full', async () => {
    const pool = await pooledContext({ workers: 1, queueSize: 1 })
    const [, , third] = pool.send(3)
    const ex = await third!

    expect(isDromedaryError(ex.exception, 'DROMEDARY_ERR_QUEUE_FULL')).toBe(true)
    expect((ex.exception as Error).message).toBe('Queue "worker group pool" is full (size 1)')
  })

  it('drains every queued and running task in a graceful stop', async () => {
    const pool = await pooledContext({ workers: 2 })
    const sent = pool.send(5)
    await pool.started(1)
    const stopped = pool.ctx.stop()
    for (let i = 0; i < 5; i++) {
      await pool.started(i)
      pool.release(i)
    }
    const report = await stopped

    expect(report.graceful).toBe(true)
    expect(report.routes.find((r) => r.id === 'calls')).toMatchObject({
      inflightAtStart: 2,
      pendingAtStart: 3,
    })
    expect(pool.ctx.mock('done').receivedExchanges).toHaveLength(5)
    expect((await Promise.all(sent)).every((ex) => ex.exception === undefined)).toBe(true)
  })

  it('runs asyncTask on the default group of one worker when no group is given', async () => {
    const pool = await pooledContext({ group: 'default' })
    void pool.send(3)
    await pool.started(0)

    expect(route(pool.ctx, 'calls')).toMatchObject({ inflight: 1, pending: 2 })
  })

  it('fails the exchange, instead of leaving it in flight, when the target cannot be called', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:calls').routeId('calls').asyncTask('direct:nobody')
      r.from('direct:nobody').routeId('nobody').autoStartup(false).to('mock:never')
    })
    await ctx.start()
    const ex = await ctx.producer().send('direct:calls', 1)

    expect(isDromedaryError(ex.exception, 'DROMEDARY_ERR_NO_CONSUMER')).toBe(true)
    expect(ctx.inflight.size()).toBe(0)
  })

  it('rejects a route using an unknown worker group with DROMEDARY_ERR_UNKNOWN_WORKER_GROUP', () => {
    const ctx = newContext()
    let caught: unknown
    try {
      void ctx.addRoutes((r) => r.from('direct:a').routeId('a').asyncTask('mock:x', { group: 'nope' }))
    } catch (err) {
      caught = err
    }
    expect(isDromedaryError(caught, 'DROMEDARY_ERR_UNKNOWN_WORKER_GROUP')).toBe(true)
    expect((caught as Error).message).toBe('Route "a": unknown worker group "nope"')
  })

  it('rejects a worker group without a positive integer number of workers', () => {
    let caught: unknown
    try {
      newContext({ workerGroups: { pool: { workers: 0 } } })
    } catch (err) {
      caught = err
    }
    expect(isDromedaryError(caught, 'DROMEDARY_ERR_INVALID_OPTION')).toBe(true)
    expect((caught as Error).message).toContain('workerGroups.pool.workers')
  })
})
