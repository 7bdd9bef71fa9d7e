import type { MetricsFactory } from '@dromedary/core'

/** How a consumed message ended (label `outcome` of `amqp_messages_total`). */
export type AmqpMessageOutcome = 'acked' | 'nacked' | 'requeued' | 'dead_lettered'

/** How a publish ended (label `outcome` of `amqp_published_total`). */
export type AmqpPublishOutcome = 'confirmed' | 'nacked' | 'returned'

/** Bound counters of one queue, kept by its consumer for the hot path. @internal */
export type QueueCounters = Readonly<Record<AmqpMessageOutcome, { inc(value?: number): void }>>

/** Bound counters of one publish target. @internal */
export type PublishCounters = Readonly<Record<AmqpPublishOutcome, { inc(value?: number): void }>>

const NOOP = { inc() {} }
const MESSAGE_OUTCOMES: readonly AmqpMessageOutcome[] = ['acked', 'nacked', 'requeued', 'dead_lettered']
const PUBLISH_OUTCOMES: readonly AmqpPublishOutcome[] = ['confirmed', 'nacked', 'returned']

/**
 * The AMQP metrics of SPEC §8, created through the context's factory (which adds the prefix); no-ops when
 * metrics are off. Series are zeroed when bound, so they appear before the first message.
 * @internal
 */
export class AmqpMetrics {
  readonly #factory: MetricsFactory | undefined
  #reconnects: { inc(value?: number): void } = NOOP

  constructor(factory: MetricsFactory | undefined) {
    this.#factory = factory
    if (factory === undefined) return
    const reconnects = factory.counter(
      'amqp_reconnects_total',
      'AMQP connections re-established after a loss',
      [],
    )
    reconnects.inc({}, 0)
    this.#reconnects = { inc: (value = 1) => reconnects.inc({}, value) }
  }

  reconnected(): void {
    this.#reconnects.inc()
  }

  queue(queue: string): QueueCounters {
    const f = this.#factory
    if (f === undefined) return { acked: NOOP, nacked: NOOP, requeued: NOOP, dead_lettered: NOOP }
    const c = f.counter('amqp_messages_total', 'Consumed AMQP messages by outcome', ['queue', 'outcome'])
    const bound = Object.fromEntries(
      MESSAGE_OUTCOMES.map((outcome) => [outcome, c.labels({ queue, outcome })]),
    )
    for (const child of Object.values(bound)) child.inc(0)
    return bound as unknown as QueueCounters
  }

  published(exchange: string): PublishCounters {
    const f = this.#factory
    if (f === undefined) return { confirmed: NOOP, nacked: NOOP, returned: NOOP }
    const c = f.counter('amqp_published_total', 'Published AMQP messages by broker outcome', [
      'exchange',
      'outcome',
    ])
    const bound = Object.fromEntries(
      PUBLISH_OUTCOMES.map((outcome) => [outcome, c.labels({ exchange, outcome })]),
    )
    for (const child of Object.values(bound)) child.inc(0)
    return bound as unknown as PublishCounters
  }
}
