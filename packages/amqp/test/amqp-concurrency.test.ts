/**
 * `concurrency` below `prefetch`: the broker delivers up to `prefetch`, the route runs `concurrency` at once,
 * and the rest are pending (taken, not started) — handed back under `completeCurrentTaskOnly`, processed
 * under `completeAllTasks`, and counted by `dromedary_exchanges_pending`.
 */
import { createContext, type IntegrationContext, type ShutdownRunningTask } from '@dromedary/core'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { amqpComponent, AmqpErrorCodes } from '../src/index.js'
import { BROKER_URL, deferred, useBroker, type Broker } from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

async function pendingGauge(ctx: IntegrationContext): Promise<number> {
  const { values } = await ctx.metrics!.getSingleMetric('dromedary_exchanges_pending')!.get()
  return values.find((v) => v.labels.route === 'worker')?.value ?? Number.NaN
}

function worker(queue: string, task: ShutdownRunningTask) {
  const ctx = createContext({ logger: false })
  ctx.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
  suite.track(ctx)
  const gate = deferred()
  const started: number[] = []
  let running = 0
  let peak = 0
  void ctx.addRoutes((r) =>
    r
      .from<{ n: number }>(`amqp:queue:${queue}?prefetch=10&concurrency=2`)
      .routeId('worker')
      .shutdownRunningTask(task)
      .process(async (ex) => {
        started.push(ex.message.body.n)
        peak = Math.max(peak, ++running)
        await gate.promise
        running--
      }),
  )
  return { ctx, gate, started, peak: () => peak }
}

/** 30 messages, a worker started on them, and 2 exchanges running with 8 deliveries pending. */
async function busyWorker(prefix: string, task: ShutdownRunningTask) {
  const q = await broker.queue(prefix)
  await broker.publishNumbers(q, 30)
  const w = worker(q, task)
  await w.ctx.start()
  await vi.waitFor(async () => expect(await pendingGauge(w.ctx)).toBe(8), { timeout: 5000 })
  return { q, ...w }
}

describe('amqp consumer concurrency below prefetch', () => {
  it('runs at most concurrency exchanges and reports the rest of the prefetch as pending', async () => {
    const w = await busyWorker('concurrency', 'completeCurrentTaskOnly')

    expect(w.started).toEqual([0, 1])
    expect(w.ctx.routes()[0]).toMatchObject({ inflight: 2, pending: 8 })
    w.gate.resolve()
    await vi.waitFor(() => expect(w.started).toHaveLength(30), { timeout: 5000 })
    await w.ctx.stop()
    expect(w.peak()).toBe(2)
  })

  it('hands the pending deliveries back at once under completeCurrentTaskOnly', async () => {
    const w = await busyWorker('concurrency-handback', 'completeCurrentTaskOnly')
    const q = w.q

    const stopping = w.ctx.stop({ timeoutMs: 10_000 })
    // The 8 pending are back in the queue while the 2 running still hold the stop.
    await vi.waitFor(async () => expect(await broker.messageCount(q)).toBe(28), { timeout: 5000 })
    expect(await pendingGauge(w.ctx)).toBe(0)
    w.gate.resolve()
    const report = await stopping

    expect(report.graceful).toBe(true)
    expect(report.routes[0]).toMatchObject({ inflightAtStart: 2, pendingAtStart: 8 })
    expect(w.started).toEqual([0, 1])
    expect(await broker.messageCount(q)).toBe(28)
  })

  it('processes the pending deliveries before stopping under completeAllTasks', async () => {
    const w = await busyWorker('concurrency-all', 'completeAllTasks')
    const q = w.q

    const stopping = w.ctx.stop({ timeoutMs: 10_000 })
    w.gate.resolve()
    const report = await stopping

    expect(report.graceful).toBe(true)
    expect(w.started.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(await broker.messageCount(q)).toBe(20)
  })

  it('refuses a concurrency above prefetch when the route is added', () => {
    const ctx = createContext({ logger: false })
    ctx.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
    expect(() => ctx.addRoutes((r) => r.from('amqp:queue:q?prefetch=5&concurrency=6').to('mock:x'))).toThrow(
      expect.objectContaining({ code: AmqpErrorCodes.INVALID_ENDPOINT }) as Error,
    )
  })
})
