/**
 * Test support for the real-broker suites: an independent amqplib connection used as the oracle (declare,
 * publish, count, read back), unique names, and closing connections from the broker side.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import type { IntegrationContext } from '@dromedary/core'
import {
  connect,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type GetMessage,
} from 'amqplib'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'

/** The broker the suites run against (only ever 127.0.0.1). */
export const BROKER_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

const run = promisify(execFile)

/** Connects the oracle; fails (never skips) with an explanation when RabbitMQ is not reachable. */
export async function connectBroker(): Promise<Broker> {
  let model: ChannelModel
  try {
    model = await connect(BROKER_URL, { clientProperties: { connection_name: 'dromedary-test-oracle' } })
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new Error(
      `RabbitMQ is not reachable at ${BROKER_URL.replace(/\/\/[^@]*@/, '//')} (${why}). ` +
        `The @dromedary/amqp suites need a real broker${process.env.CI === undefined ? '' : ' (CI is set: this is a failure, not a skip)'}; ` +
        'start one (e.g. `rabbitmq-server -detached`) or set AMQP_URL.',
    )
  }
  model.on('error', () => {})
  return new Broker(model, await model.createChannel(), await model.createConfirmChannel())
}

/**
 * Installs the suite hooks: connects the oracle once, makes every test FAIL (not skip) with the reason when
 * the broker is unreachable, force-stops the contexts a test left running and deletes its queues.
 */
export function useBroker(): { readonly broker: Broker; track(ctx: IntegrationContext): IntegrationContext } {
  let broker: Broker | undefined
  let unreachable: unknown
  const contexts: IntegrationContext[] = []
  beforeAll(async () => {
    try {
      broker = await connectBroker()
    } catch (err) {
      unreachable = err
    }
  })
  beforeEach(() => {
    if (unreachable !== undefined) throw unreachable
  })
  afterEach(async () => {
    for (const ctx of contexts.splice(0)) if (ctx.status !== 'stopped') await ctx.forceStop()
    await broker?.cleanup()
  })
  afterAll(async () => {
    await broker?.close()
  })
  return {
    get broker() {
      if (broker === undefined) throw new Error('the broker is not connected')
      return broker
    },
    track(ctx) {
      contexts.push(ctx)
      return ctx
    },
  }
}

/** A message as the tests publish it. */
export interface TestMessage {
  body: unknown
  contentType?: string
  messageId?: string
  correlationId?: string
  headers?: Record<string, unknown>
}

/** The oracle: everything here goes straight to amqplib, never through @dromedary/amqp. */
export class Broker {
  readonly #queues = new Set<string>()
  readonly #exchanges = new Set<string>()

  constructor(
    readonly model: ChannelModel,
    readonly channel: Channel,
    readonly confirm: ConfirmChannel,
  ) {
    channel.on('error', () => {})
    confirm.on('error', () => {})
  }

  /** A name unique to this run, so parallel suites never share a queue. */
  name(prefix: string): string {
    return `dromedary-test.${prefix}.${randomBytes(4).toString('hex')}`
  }

  /** Declares a durable queue (deleted by `cleanup`). */
  async queue(prefix: string, args: Record<string, unknown> = {}): Promise<string> {
    const q = this.name(prefix)
    await this.channel.assertQueue(q, { durable: true, arguments: args })
    this.#queues.add(q)
    return q
  }

  /** Remembers a queue someone else declared, so `cleanup` deletes it. */
  track(queue: string): string {
    this.#queues.add(queue)
    return queue
  }

  /** A fanout dead-letter exchange with one bound queue; returns both names. */
  async deadLetter(prefix: string): Promise<{ exchange: string; queue: string }> {
    const exchange = this.name(`${prefix}-dlx`)
    await this.channel.assertExchange(exchange, 'fanout', { durable: true })
    this.#exchanges.add(exchange)
    const queue = await this.queue(`${prefix}-dlq`)
    await this.channel.bindQueue(queue, exchange, '')
    return { exchange, queue }
  }

  /** An exchange of the given type (deleted by `cleanup`). */
  async exchange(prefix: string, type: string): Promise<string> {
    const exchange = this.name(prefix)
    await this.channel.assertExchange(exchange, type, { durable: true })
    this.#exchanges.add(exchange)
    return exchange
  }

  trackExchange(exchange: string): string {
    this.#exchanges.add(exchange)
    return exchange
  }

  /** Publishes with confirms and waits for all of them. */
  async publish(queue: string, messages: readonly TestMessage[]): Promise<void> {
    for (const m of messages) {
      const content =
        m.body instanceof Uint8Array
          ? Buffer.from(m.body)
          : Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body))
      const options: Record<string, unknown> = { persistent: true }
      if (m.contentType !== undefined) options.contentType = m.contentType
      if (m.messageId !== undefined) options.messageId = m.messageId
      if (m.correlationId !== undefined) options.correlationId = m.correlationId
      if (m.headers !== undefined) options.headers = m.headers
      this.confirm.sendToQueue(queue, content, options)
    }
    await this.confirm.waitForConfirms()
  }

  /** Publishes `{ n }` for n = 0 … count-1 as JSON, message id `m-n`. */
  async publishNumbers(queue: string, count: number): Promise<void> {
    const messages = Array.from({ length: count }, (_, n) => ({
      body: { n },
      contentType: 'application/json',
      messageId: `m-${n}`,
    }))
    await this.publish(queue, messages)
  }

  /** Ready messages in the queue (unacknowledged ones are not counted). */
  async messageCount(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount
  }

  /** Takes every ready message off the queue (acknowledged). */
  async drain(queue: string): Promise<GetMessage[]> {
    const out: GetMessage[] = []
    for (;;) {
      const m = await this.channel.get(queue, { noAck: true })
      if (m === false) return out
      out.push(m)
    }
  }

  /** Consumes (without acknowledgement) the next `count` messages of `queue`, in queue order: fast for many. */
  async take(queue: string, count: number): Promise<ConsumeMessage[]> {
    const ch = await this.model.createChannel()
    const out: ConsumeMessage[] = []
    await new Promise<void>((resolve) => {
      if (count === 0) resolve()
      void ch.consume(
        queue,
        (m) => {
          if (m === null) return
          out.push(m)
          if (out.length === count) resolve()
        },
        { noAck: true },
      )
    })
    await ch.close()
    return out
  }

  /** Resolves with the first message that arrives on `queue` (consumed and acknowledged). */
  async nextMessage(queue: string): Promise<ConsumeMessage> {
    const ch = await this.model.createChannel()
    return new Promise((resolve) => {
      void ch.consume(queue, (m) => {
        if (m === null) return
        ch.ack(m)
        void ch.close().then(() => resolve(m))
      })
    })
  }

  async cleanup(): Promise<void> {
    for (const q of this.#queues) await this.channel.deleteQueue(q)
    for (const e of this.#exchanges) await this.channel.deleteExchange(e)
    this.#queues.clear()
    this.#exchanges.clear()
  }

  async close(): Promise<void> {
    await this.cleanup()
    await this.model.close()
  }
}

/**
 * Closes, from the broker side, every connection whose `connection_name` is `name` (`rabbitmqctl
 * close_connection`), so only this test's connections drop and parallel suites are unaffected. Returns how
 * many were closed.
 */
export async function closeConnectionsNamed(name: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', [
    'list_connections',
    '-q',
    '--no-table-headers',
    'pid',
    'client_properties',
  ])
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0]!)
  for (const pid of pids)
    await run('rabbitmqctl', ['close_connection', pid, 'dromedary test: dropped from the broker side'])
  return pids.length
}

export { captureLogger, counter, deferred, type LogLine } from '../../../../test/support/observe.js'
