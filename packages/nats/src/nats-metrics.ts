import type { MetricsFactory } from '@dromedary/core'

/** How a consumed message ended (label `outcome` of `nats_messages_total`). */
export type NatsMessageOutcome = 'acked' | 'nacked' | 'requeued' | 'dead_lettered' | 'terminated'

/** How a JetStream publish ended (label `outcome` of `nats_published_total`). */
export type NatsPublishOutcome = 'acked' | 'duplicate' | 'failed'

/** A bound counter child. @internal */
export interface Inc {
  inc(value?: number): void
}

/** Bound counters of one stream, kept by its consumer for the hot path. @internal */
export type StreamCounters = Readonly<Record<NatsMessageOutcome, Inc>>

/** Bound counters of one publish subject. @internal */
export type PublishCounters = Readonly<Record<NatsPublishOutcome, Inc>>

const NOOP: Inc = { inc() {} }
const MESSAGE_OUTCOMES = ['acked', 'nacked', 'requeued', 'dead_lettered', 'terminated'] as const
const PUBLISH_OUTCOMES = ['acked', 'duplicate', 'failed'] as const

/**
 * The NATS metrics, created through the context's factory (which adds the prefix); no-ops when metrics are
 * off. Series are zeroed when bound, so they appear before the first message.
 * @internal
 */
export class NatsMetrics {
  readonly #factory: MetricsFactory | undefined
  #reconnects: Inc = NOOP

  constructor(factory: MetricsFactory | undefined) {
    this.#factory = factory
    if (factory === undefined) return
    const reconnects = factory.counter(
      'nats_reconnects_total',
      'NATS connections re-established after a loss',
      [],
    )
    reconnects.inc({}, 0)
    this.#reconnects = reconnects.labels({})
  }

  reconnected(): void {
    this.#reconnects.inc()
  }

  stream(stream: string): StreamCounters {
    return bind(
      this.#factory,
      'nats_messages_total',
      'Consumed JetStream messages by outcome',
      'stream',
      stream,
      MESSAGE_OUTCOMES,
    )
  }

  published(subject: string): PublishCounters {
    return bind(
      this.#factory,
      'nats_published_total',
      'JetStream publishes by server outcome',
      'subject',
      subject,
      PUBLISH_OUTCOMES,
    )
  }
}

function bind<TOutcome extends string, TLabel extends string>(
  f: MetricsFactory | undefined,
  name: string,
  help: string,
  label: TLabel,
  value: string,
  outcomes: readonly TOutcome[],
): Readonly<Record<TOutcome, Inc>> {
  const out = {} as Record<TOutcome, Inc>
  const counter = f?.counter(name, help, [label, 'outcome'])
  for (const outcome of outcomes) {
    const child =
      counter === undefined
        ? NOOP
        : counter.labels({ [label]: value, outcome } as Record<TLabel | 'outcome', string>)
    child.inc(0)
    out[outcome] = child
  }
  return out
}
