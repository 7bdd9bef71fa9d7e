/**
 * `maxRedeliveries` across process crashes: each "process" is a fresh context behind its own proxy, and the
 * poison message "crashes" it by cutting its connection mid-exchange (the broker sees the socket go, as
 * after a kill, and requeues). Nothing carries over between lives except what the broker holds.
 */
import { createContext } from '@dromedary/core'
import { beforeEach, describe, expect, it } from 'vitest'
import type { ConsumeMessage as AmqpConsumeMessage } from 'amqplib'
import { amqpComponent } from '../src/index.js'
import { BROKER_URL, deferred, useBroker, type Broker } from './support/broker.js'
import { startProxy } from './support/proxy.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

const MAX_REDELIVERIES = 2
const MAX_LIVES = 10

/**
 * Runs one life: resolves 'crashed' when the poison ran (and the process died), 'dead-lettered' when the
 * poison reached the dead-letter queue instead. Ordinary messages are recorded in `processed`.
 */
async function life(
  uri: string,
  dead: Promise<AmqpConsumeMessage>,
  processed: number[],
): Promise<'crashed' | 'dead-lettered'> {
  const proxy = await startProxy()
  const entered = deferred()
  const ctx = createContext({ logger: false })
  ctx.addComponent('amqp', amqpComponent({ url: proxy.url, reconnect: { initialMaxRetries: 0 } }))
  suite.track(ctx)
  await ctx.addRoutes((r) =>
    r.from<{ poison?: boolean; n?: number }>(uri).process(async (ex) => {
      if (ex.message.body.poison !== true) {
        processed.push(ex.message.body.n!)
        return
      }
      // The crash: the socket goes, nothing is acknowledged, this process never comes back.
      proxy.refuse()
      proxy.cut()
      entered.resolve()
      await new Promise(() => {})
    }),
  )
  await ctx.start()
  const outcome = await Promise.race([
    entered.promise.then(() => 'crashed' as const),
    dead.then(() => 'dead-lettered' as const),
  ])
  await proxy.close()
  await ctx.forceStop()
  return outcome
}

/** Consumes what is left of `queue` in a context that does not crash; resolves with the numbers seen. */
async function rest(uri: string, left: number): Promise<number[]> {
  const seen: number[] = []
  if (left === 0) return seen
  const done = deferred()
  const ctx = createContext({ logger: false })
  ctx.addComponent('amqp', amqpComponent({ url: BROKER_URL }))
  suite.track(ctx)
  await ctx.addRoutes((r) =>
    r.from<{ n: number }>(uri).process((ex) => {
      seen.push(ex.message.body.n)
      if (seen.length === left) done.resolve()
    }),
  )
  await ctx.start()
  await done.promise
  await ctx.stop()
  return seen
}

const ORDINARY = 30

/** Consumes the dead-letter queue: `poison` resolves when the poison arrives; `others` collects the rest. */
async function watchDeadLetters(queue: string) {
  const ch = await broker.model.createChannel()
  const poison = deferred<AmqpConsumeMessage>()
  const others: number[] = []
  await ch.consume(
    queue,
    (m) => {
      if (m === null) return
      if (m.properties.messageId === 'poison-1') poison.resolve(m)
      else others.push((JSON.parse(m.content.toString()) as { n: number }).n)
    },
    { noAck: true },
  )
  return { poison: poison.promise, others, close: () => ch.close() }
}

// On a classic queue the count is exact and no other message is charged; on a quorum queue the broker
// returns (and counts) deliveries in transit when the consumer pauses for a suspect, so the poison can be
// refused after fewer runs and a message in transit at a pause can be charged one delivery — never more runs.
describe.each([
  ['classic', {}, '', true],
  ['quorum', { 'x-queue-type': 'quorum' }, '&passive=true', false],
])('a poison message that crashes the process on every delivery (%s queue)', (_, args, extra, exact) => {
  it(`reaches the dead-letter exchange after at most maxRedeliveries + 1 = ${MAX_REDELIVERIES + 1} runs, and loses no other message`, async () => {
    const dlx = await broker.deadLetter('crash')
    const q = await broker.queue('crash', { ...args, 'x-dead-letter-exchange': dlx.exchange })
    const ordinary = (n: number) => ({ body: { n }, contentType: 'application/json', messageId: `m-${n}` })
    const numbers = Array.from({ length: ORDINARY }, (_, n) => n)
    // The poison sits among ordinary messages, so a prefetch window holds both.
    await broker.publish(q, [
      ...numbers.slice(0, 5).map(ordinary),
      { body: { poison: true }, contentType: 'application/json', messageId: 'poison-1', headers: { n: 1 } },
      ...numbers.slice(5).map(ordinary),
    ])
    const uri = `amqp:queue:${q}?prefetch=10&deadLetterExchange=${dlx.exchange}&maxRedeliveries=${MAX_REDELIVERIES}${extra}`
    const deadLetters = await watchDeadLetters(dlx.queue)
    const dead = deadLetters.poison

    const processed: number[] = []
    let runs = 0
    let lives = 0
    for (; lives < MAX_LIVES; lives++) {
      if ((await life(uri, dead, processed)) === 'dead-lettered') break
      runs++
    }
    const left = ORDINARY - new Set([...processed, ...deadLetters.others]).size
    processed.push(...(await rest(uri, left)))
    await deadLetters.close()

    expect(lives).toBeLessThan(MAX_LIVES)
    if (exact) expect(runs).toBe(MAX_REDELIVERIES + 1)
    else expect(runs).toBeGreaterThanOrEqual(1)
    expect(runs).toBeLessThanOrEqual(MAX_REDELIVERIES + 1)
    const message = await dead
    expect(message.properties.headers?.n).toBe(1)
    if (exact) expect(deadLetters.others).toEqual([])
    expect([...new Set([...processed, ...deadLetters.others])].sort((a, b) => a - b)).toEqual(numbers)
    // At-least-once: a copy whose original was also redelivered may still wait in the queue — a duplicate
    // of a message already processed, never the poison and never one that was not processed.
    const leftover = (await broker.drain(q)).map((m) => JSON.parse(m.content.toString()) as { n?: number })
    expect(leftover.filter((b) => b.n === undefined || !processed.includes(b.n))).toEqual([])
  })
})
