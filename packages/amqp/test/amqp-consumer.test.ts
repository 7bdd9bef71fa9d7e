import { setTimeout as sleep } from 'node:timers/promises'
import { createContext, type Exchange, type IntegrationContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { amqpComponent } from '../src/index.js'
import { BROKER_URL, captureLogger, counter, deferred, useBroker, type Broker } from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

function context(options: Parameters<typeof createContext>[0] = {}): IntegrationContext {
  const ctx = createContext({ logger: false, ...options })
  ctx.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
  suite.track(ctx)
  return ctx
}

/** Work that takes a little time, so a stop lands in the middle of the stream. */
const work = () => sleep(2)

/** Consumes `queue` in a fresh context until `count` messages arrived; returns their numbers. */
async function consumeRest(queue: string, count: number): Promise<number[]> {
  const seen: number[] = []
  const done = deferred()
  const ctx = context()
  await ctx.addRoutes((r) =>
    r.from<{ n: number }>(`amqp:queue:${queue}?prefetch=50`).process((ex) => {
      seen.push(ex.message.body.n)
      if (seen.length === count) done.resolve()
    }),
  )
  await ctx.start()
  if (count > 0) await done.promise
  await ctx.stop()
  return seen
}

describe('amqp consumer', () => {
  it('maps content types to bodies and AMQP properties to headers', async () => {
    const q = await broker.queue('headers')
    await broker.publish(q, [
      {
        body: { order: 1 },
        contentType: 'application/json; charset=utf-8',
        messageId: 'm-1',
        correlationId: 'c-1',
        headers: { tenant: 'acme' },
      },
      { body: 'plain text', contentType: 'text/plain' },
      { body: Buffer.from([1, 2, 3]) },
    ])
    const ctx = context()
    await ctx.addRoutes((r) => r.from(`amqp:queue:${q}`).to('mock:out'))
    const out = ctx.mock('out').expectedMessageCount(3)
    await ctx.start()
    await out.assertIsSatisfied({ timeoutMs: 5000 })
    const [json, text, binary] = out.receivedExchanges as Exchange[]
    expect(json!.message.body).toEqual({ order: 1 })
    expect(json!.message.headers).toMatchObject({
      tenant: 'acme',
      'amqp.messageId': 'm-1',
      'amqp.correlationId': 'c-1',
      'amqp.redelivered': false,
      'amqp.routingKey': q,
      'amqp.exchange': '',
    })
    expect(text!.message.body).toBe('plain text')
    expect(Buffer.isBuffer(binary!.message.body)).toBe(true)
    expect([...(binary!.message.body as Buffer)]).toEqual([1, 2, 3])
    await ctx.stop()
    expect(await broker.messageCount(q)).toBe(0)
    expect(await counter(ctx, 'dromedary_amqp_messages_total', { queue: q, outcome: 'acked' })).toBe(3)
  })

  it('never runs more than prefetch exchanges at once', async () => {
    const q = await broker.queue('prefetch')
    await broker.publishNumbers(q, 60)
    let running = 0
    let peak = 0
    let finished = 0
    const done = deferred()
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`amqp:queue:${q}?prefetch=4`).process(async () => {
        peak = Math.max(peak, ++running)
        await work()
        running--
        if (++finished === 60) done.resolve()
      }),
    )
    await ctx.start()
    await done.promise
    await ctx.stop()
    expect(peak).toBe(4)
  })

  describe.each(['completeCurrentTaskOnly', 'completeAllTasks'] as const)(
    'graceful stop mid-stream with %s',
    (task) => {
      it('processes each message at most once and leaves the rest in the queue for the next context', async () => {
        const q = await broker.queue(`graceful-${task}`)
        await broker.publishNumbers(q, 1000)
        const seen: number[] = []
        const reached = deferred()
        const ctx = context()
        await ctx.addRoutes((r) =>
          r
            .from<{ n: number }>(`amqp:queue:${q}?prefetch=20`)
            .routeId('worker')
            .shutdownRunningTask(task)
            .process(async (ex) => {
              await work()
              seen.push(ex.message.body.n)
              if (seen.length === 200) reached.resolve()
            }),
        )
        await ctx.start()
        await reached.promise
        const report = await ctx.stop({ timeoutMs: 10_000 })

        expect(report.graceful).toBe(true)
        expect(new Set(seen).size).toBe(seen.length)
        const left = await broker.messageCount(q)
        expect(seen.length + left).toBe(1000)
        expect(left).toBeGreaterThan(0)
        expect(await counter(ctx, 'dromedary_amqp_messages_total', { queue: q, outcome: 'acked' })).toBe(
          seen.length,
        )

        const rest = await consumeRest(q, left)
        const all = [...seen, ...rest].sort((a, b) => a - b)
        expect(all).toEqual(Array.from({ length: 1000 }, (_, n) => n))
        expect(await broker.messageCount(q)).toBe(0)
      })
    },
  )

  it('forced stop hands every unfinished message back to the queue, also when exchanges are stuck', async () => {
    const q = await broker.queue('forced')
    await broker.publishNumbers(q, 10)
    let started = 0
    const allStarted = deferred()
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`amqp:queue:${q}?prefetch=5`).process(async () => {
        if (++started === 5) allStarted.resolve()
        // stuck: ignores its abort signal
        await new Promise(() => {})
      }),
    )
    await ctx.start()
    await allStarted.promise
    const report = await ctx.stop({ timeoutMs: 200 })

    expect(report.forced).toBe(true)
    expect(await broker.messageCount(q)).toBe(10)
    const back = await broker.drain(q)
    expect(back.filter((m) => m.fields.redelivered)).toHaveLength(5)
  })

  it('forceStop requeues exchanges that end by abort instead of dead-lettering them', async () => {
    const dlx = await broker.deadLetter('abort')
    const q = await broker.queue('abort', { 'x-dead-letter-exchange': dlx.exchange })
    await broker.publishNumbers(q, 6)
    let started = 0
    const allStarted = deferred()
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`amqp:queue:${q}?prefetch=3&deadLetterExchange=${dlx.exchange}`).process(async (ex) => {
        if (++started === 3) allStarted.resolve()
        await new Promise((_, reject) =>
          ex.signal.addEventListener('abort', () => reject(new Error('aborted'))),
        )
      }),
    )
    await ctx.start()
    await allStarted.promise
    const report = await ctx.forceStop()

    expect(report.forced).toBe(true)
    expect(await broker.messageCount(q)).toBe(6)
    expect(await broker.messageCount(dlx.queue)).toBe(0)
  })

  it('dead-letters a poison message after the onException redeliveries, once', async () => {
    const dlx = await broker.deadLetter('poison')
    const q = await broker.queue('poison', { 'x-dead-letter-exchange': dlx.exchange })
    await broker.publish(q, [
      { body: { poison: true }, contentType: 'application/json', messageId: 'poison-1' },
    ])
    let attempts = 0
    const ctx = context()
    await ctx.addRoutes((r) =>
      r
        .from(`amqp:queue:${q}?deadLetterExchange=${dlx.exchange}`)
        .onException({ maximumRedeliveries: 2, redeliveryDelayMs: 10 })
        .process(() => {
          attempts++
          throw new Error('cannot handle this')
        }),
    )
    await ctx.start()
    const dead = await broker.nextMessage(dlx.queue)
    await ctx.stop()

    expect(attempts).toBe(3)
    expect(dead.properties.messageId).toBe('poison-1')
    expect(dead.properties.headers?.['x-death']?.[0]).toMatchObject({
      reason: 'rejected',
      queue: q,
      count: 1,
    })
    expect(await broker.messageCount(q)).toBe(0)
    expect(await counter(ctx, 'dromedary_amqp_messages_total', { queue: q, outcome: 'dead_lettered' })).toBe(
      1,
    )
  })

  it('rejects a failing message with an error log naming it when there is no dead-letter exchange', async () => {
    const q = await broker.queue('reject')
    await broker.publish(q, [{ body: 'bad', contentType: 'text/plain', messageId: 'bad-42' }])
    const logger = captureLogger()
    let attempts = 0
    const ctx = context({ logger })
    await ctx.addRoutes((r) =>
      r
        .from(`amqp:queue:${q}`)
        .onException({ maximumRedeliveries: 1, redeliveryDelayMs: 10 })
        .process(() => {
          attempts++
          throw new Error('boom')
        }),
    )
    await ctx.start()
    const line = await logger.waitFor((l) => l.level === 'error' && l.msg.includes('bad-42'))
    await ctx.stop()

    expect(line.msg).toContain('rejected')
    expect(attempts).toBe(2)
    expect(await broker.messageCount(q)).toBe(0)
    expect(await counter(ctx, 'dromedary_amqp_messages_total', { queue: q, outcome: 'nacked' })).toBe(1)
  })

  it('refuses a message that came back more often than maxRedeliveries', async () => {
    const dlx = await broker.deadLetter('limit')
    const q = await broker.queue('limit', { 'x-dead-letter-exchange': dlx.exchange })
    await broker.publishNumbers(q, 1)
    // First life: the exchange is stuck and a forced stop requeues the message (redelivered from now on).
    const started = deferred()
    const first = context()
    await first.addRoutes((r) =>
      r.from(`amqp:queue:${q}?deadLetterExchange=${dlx.exchange}`).process(async () => {
        started.resolve()
        await new Promise(() => {})
      }),
    )
    await first.start()
    await started.promise
    await first.forceStop()
    expect(await broker.messageCount(q)).toBe(1)

    let processed = 0
    const second = context()
    await second.addRoutes((r) =>
      r.from(`amqp:queue:${q}?deadLetterExchange=${dlx.exchange}&maxRedeliveries=0`).process(() => {
        processed++
      }),
    )
    await second.start()
    const dead = await broker.nextMessage(dlx.queue)
    await second.stop()

    expect(processed).toBe(0)
    expect(dead.properties.messageId).toBe('m-0')
  })

  it('rejects a message whose JSON body cannot be parsed, without running the route', async () => {
    const dlx = await broker.deadLetter('badjson')
    const q = await broker.queue('badjson', { 'x-dead-letter-exchange': dlx.exchange })
    await broker.publish(q, [{ body: '{not json', contentType: 'application/json', messageId: 'j-1' }])
    let processed = 0
    const ctx = context()
    await ctx.addRoutes((r) =>
      r.from(`amqp:queue:${q}?deadLetterExchange=${dlx.exchange}`).process(() => {
        processed++
      }),
    )
    await ctx.start()
    const dead = await broker.nextMessage(dlx.queue)
    await ctx.stop()
    expect(processed).toBe(0)
    expect(dead.properties.messageId).toBe('j-1')
  })

  it('shares a queue between two contexts without loss or duplicates when one stops gracefully', async () => {
    const q = await broker.queue('competing')
    await broker.publishNumbers(q, 1000)
    const seenA: number[] = []
    const seenB: number[] = []
    const aReached = deferred()
    const allDone = deferred()
    const check = () => {
      if (seenA.length + seenB.length === 1000) allDone.resolve()
    }
    const a = context({ name: 'a' })
    await a.addRoutes((r) =>
      r.from<{ n: number }>(`amqp:queue:${q}?prefetch=10`).process(async (ex) => {
        await work()
        seenA.push(ex.message.body.n)
        if (seenA.length === 150) aReached.resolve()
        check()
      }),
    )
    const b = context({ name: 'b' })
    await b.addRoutes((r) =>
      r.from<{ n: number }>(`amqp:queue:${q}?prefetch=10`).process(async (ex) => {
        await work()
        seenB.push(ex.message.body.n)
        check()
      }),
    )
    await a.start()
    await b.start()
    await aReached.promise
    const report = await a.stop()
    expect(report.graceful).toBe(true)
    await allDone.promise
    await b.stop()

    const all = [...seenA, ...seenB].sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: 1000 }, (_, n) => n))
    expect(seenB.length).toBeGreaterThan(0)
    expect(await broker.messageCount(q)).toBe(0)
  })
})
