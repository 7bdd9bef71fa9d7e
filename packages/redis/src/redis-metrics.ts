import type { MetricsFactory } from '@dromedary/core'

/**
 * How a consumed entry ended (label `outcome` of `redis_messages_total`): `acked`; `retried` (failed, left
 * pending for a later claim); `handed_back` (not finished at shutdown, left pending and idle for the next
 * consumer); `dead_lettered`; `discarded` (delivery limit reached without a dead-letter stream); `trimmed`
 * (pending, but the stream had trimmed it before it was processed).
 */
export type RedisMessageOutcome =
  'acked' | 'retried' | 'handed_back' | 'dead_lettered' | 'discarded' | 'trimmed'

/** How an `XADD` ended (label `outcome` of `redis_published_total`). */
export type RedisPublishOutcome = 'added' | 'failed'

/** A bound counter child. @internal */
export interface Inc {
  inc(value?: number): void
}

/** Bound counters of one consumed stream. @internal */
export type StreamCounters = Readonly<Record<RedisMessageOutcome, Inc>>

/** Bound counters of one stream published to. @internal */
export type PublishCounters = Readonly<Record<RedisPublishOutcome, Inc>>

const NOOP: Inc = { inc() {} }
const MESSAGE_OUTCOMES = ['acked', 'retried', 'handed_back', 'dead_lettered', 'discarded', 'trimmed'] as const
const PUBLISH_OUTCOMES = ['added', 'failed'] as const

/**
 * The Redis metrics, created through the context's factory (which adds the prefix); no-ops when metrics are
 * off. Series are zeroed when bound, so they appear before the first entry.
 * @internal
 */
export class RedisMetrics {
  readonly #factory: MetricsFactory | undefined
  #reconnects: Inc = NOOP

  constructor(factory: MetricsFactory | undefined) {
    this.#factory = factory
    if (factory === undefined) return
    const reconnects = factory.counter(
      'redis_reconnects_total',
      'Redis connections re-established after a loss',
      [],
    )
    reconnects.inc({}, 0)
    this.#reconnects = reconnects.labels({})
  }

  reconnected(): void {
    this.#reconnects.inc()
  }

  stream(stream: string): StreamCounters {
    return this.#bind(
      'redis_messages_total',
      'Consumed Redis stream entries by outcome',
      stream,
      MESSAGE_OUTCOMES,
    )
  }

  published(stream: string): PublishCounters {
    return this.#bind('redis_published_total', 'XADDs to Redis streams by outcome', stream, PUBLISH_OUTCOMES)
  }

  #bind<TOutcome extends string>(
    name: string,
    help: string,
    stream: string,
    outcomes: readonly TOutcome[],
  ): Readonly<Record<TOutcome, Inc>> {
    const out = {} as Record<TOutcome, Inc>
    const counter = this.#factory?.counter(name, help, ['stream', 'outcome'])
    for (const outcome of outcomes) {
      const child = counter === undefined ? NOOP : counter.labels({ stream, outcome })
      child.inc(0)
      out[outcome] = child
    }
    return out
  }
}
