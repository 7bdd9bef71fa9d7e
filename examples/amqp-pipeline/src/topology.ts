import { connect } from 'amqplib'

/** The broker objects of the pipeline, all named from one prefix so several copies can share a broker. */
export interface PipelineNames {
  /** Queue the pipeline consumes. */
  readonly input: string
  /** Topic exchange the enriched orders are published to. */
  readonly events: string
  /** Queue bound to `events` (`order.#`), consumed by the downstream route. */
  readonly enriched: string
  /** Fanout exchange the input queue dead-letters poison messages to. */
  readonly dlx: string
  /** Queue bound to `dlx`, where poison messages end up. */
  readonly dead: string
}

/** The names for a prefix. @default prefix 'pipeline' */
export function pipelineNames(prefix = 'pipeline'): PipelineNames {
  return {
    input: `${prefix}.in`,
    events: `${prefix}.events`,
    enriched: `${prefix}.enriched`,
    dlx: `${prefix}.dlx`,
    dead: `${prefix}.dead`,
  }
}

/**
 * Declares the exchanges, queues and bindings (idempotent). `@dromedary/amqp` declares the queues it
 * consumes but not bindings nor dead-letter exchanges, which belong to deployment: this is the step a
 * `rabbitmqadmin`/definitions file or your infrastructure code would do. The input queue's arguments must
 * match what the route declares (`deadLetterExchange=`), or the broker refuses the second declaration.
 */
export async function declareTopology(url: string, names: PipelineNames): Promise<void> {
  const connection = await connect(url)
  try {
    const ch = await connection.createChannel()
    await ch.assertExchange(names.events, 'topic', { durable: true })
    await ch.assertExchange(names.dlx, 'fanout', { durable: true })
    await ch.assertQueue(names.input, { durable: true, arguments: { 'x-dead-letter-exchange': names.dlx } })
    await ch.assertQueue(names.enriched, { durable: true })
    await ch.bindQueue(names.enriched, names.events, 'order.#')
    await ch.assertQueue(names.dead, { durable: true })
    await ch.bindQueue(names.dead, names.dlx, '')
    await ch.close()
  } finally {
    await connection.close()
  }
}

/** Deletes everything `declareTopology` created (used by the smoke test to leave the broker clean). */
export async function deleteTopology(url: string, names: PipelineNames): Promise<void> {
  const connection = await connect(url)
  try {
    const ch = await connection.createChannel()
    for (const q of [names.input, names.enriched, names.dead]) await ch.deleteQueue(q)
    for (const x of [names.events, names.dlx]) await ch.deleteExchange(x)
    await ch.close()
  } finally {
    await connection.close()
  }
}
