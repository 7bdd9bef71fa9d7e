import { amqpComponent } from '@dromedary/amqp'
import { createContext, type IntegrationContext } from '@dromedary/core'
import type { PipelineNames } from './topology.js'

/** An order as it arrives on the input queue. */
export interface Order {
  orderId: string
  customer: string
  currency: string
  lines: Array<{ sku: string; quantity: number; unitPrice: number }>
}

/** What the pipeline publishes. */
export interface EnrichedOrder {
  orderId: string
  customer: string
  currency: string
  lineCount: number
  total: number
  enrichedAt: string
}

/** A message that can never be processed: retrying is pointless, so it goes to the dead-letter exchange. */
export class InvalidOrderError extends Error {
  override readonly name = 'InvalidOrderError'
}

/** Throws `InvalidOrderError` unless `body` is an `Order`. */
export function assertOrder(body: unknown): asserts body is Order {
  if (body === null || typeof body !== 'object')
    throw new InvalidOrderError(`not an order: ${JSON.stringify(body)}`)
  const o = body as Partial<Order>
  if (typeof o.orderId !== 'string' || typeof o.customer !== 'string' || typeof o.currency !== 'string')
    throw new InvalidOrderError('orderId, customer and currency must be strings')
  if (!Array.isArray(o.lines) || o.lines.length === 0)
    throw new InvalidOrderError(`order ${o.orderId} has no lines`)
  for (const l of o.lines)
    if (typeof l?.sku !== 'string' || !(l.quantity > 0) || !(l.unitPrice >= 0))
      throw new InvalidOrderError(`order ${o.orderId} has a bad line: ${JSON.stringify(l)}`)
}

/** The messages the app publishes to its input queue on start: four orders and two poison messages. */
export const SEED_MESSAGES: readonly unknown[] = [
  {
    orderId: 'ord-1001',
    customer: 'ada',
    currency: 'EUR',
    lines: [{ sku: 'camel-plush', quantity: 2, unitPrice: 12.5 }],
  },
  {
    orderId: 'ord-1002',
    customer: 'grace',
    currency: 'EUR',
    lines: [{ sku: 'saddle', quantity: 1, unitPrice: 89 }],
  },
  { orderId: 'ord-1003', customer: 'mallory', currency: 'EUR', lines: 'all of them' },
  {
    orderId: 'ord-1004',
    customer: 'linus',
    currency: 'EUR',
    lines: [
      { sku: 'water-bottle', quantity: 3, unitPrice: 4.2 },
      { sku: 'dates-1kg', quantity: 1, unitPrice: 9.9 },
    ],
  },
  'DROP TABLE orders; --',
  {
    orderId: 'ord-1005',
    customer: 'barbara',
    currency: 'EUR',
    lines: [{ sku: 'map', quantity: 1, unitPrice: 3 }],
  },
]

/** Options of `createPipelineApp`. */
export interface PipelineAppOptions {
  /** Broker URL. */
  amqpUrl: string
  names: PipelineNames
  /** Input messages taken by the consumer at once (`prefetch`). @default 10 */
  prefetch?: number
}

/**
 * Consume → validate → transform → publish with confirms; poison messages are nacked without requeue and
 * so dead-lettered by the broker. Two observer routes show where every message ends up.
 */
export function createPipelineApp(options: PipelineAppOptions): {
  ctx: IntegrationContext
  seed: () => Promise<void>
} {
  const { names } = options
  const counts = { published: 0, deadLettered: 0 }
  const ctx = createContext({ name: 'amqp-pipeline' })
  ctx.addComponent('amqp', amqpComponent({ url: options.amqpUrl }))

  const accountedFor = (): void => {
    if (counts.published + counts.deadLettered !== SEED_MESSAGES.length) return
    ctx.logger.info(
      counts,
      `All ${SEED_MESSAGES.length} seeded messages accounted for: ${counts.published} enriched and published, ${counts.deadLettered} dead-lettered. Ctrl-C to stop.`,
    )
  }

  void ctx.addRoutes((r) => {
    // The pipeline. A failed exchange is nacked without requeue: the broker routes it to the DLX.
    r.from<unknown>(
      `amqp:queue:${names.input}?prefetch=${options.prefetch ?? 10}&deadLetterExchange=${names.dlx}`,
    )
      .routeId('enrich')
      .startupOrder(20)
      .process((ex) => assertOrder(ex.message.body))
      .transform((ex): EnrichedOrder => {
        const o = ex.message.body as Order
        const total = o.lines.reduce((n, l) => n + l.quantity * l.unitPrice, 0)
        return {
          orderId: o.orderId,
          customer: o.customer,
          currency: o.currency,
          lineCount: o.lines.length,
          total: Math.round(total * 100) / 100,
          enrichedAt: new Date().toISOString(),
        }
      })
      // Completes only once the broker has confirmed the publish; a nack fails the exchange (and so the input).
      .to(`amqp:exchange:${names.events}?routingKey=order.enriched`)
      .log(
        (ex) =>
          `Enriched ${ex.message.body.orderId} (total ${ex.message.body.total} ${ex.message.body.currency}) and published it to ${names.events}: confirmed`,
      )

    // Observers: a downstream consumer of the events, and the dead-letter queue.
    r.from<EnrichedOrder>(`amqp:queue:${names.enriched}`)
      .routeId('downstream')
      .startupOrder(10)
      .log(
        (ex) =>
          `Downstream received ${ex.message.body.orderId} via ${String(ex.message.headers['amqp.routingKey'])}`,
      )
      .process(() => {
        counts.published++
        accountedFor()
      })

    r.from(`amqp:queue:${names.dead}`)
      .routeId('dead-letters')
      .startupOrder(11)
      .process((ex) => {
        counts.deadLettered++
        ctx.logger.warn(
          { route: 'dead-letters', messageId: ex.message.headers['amqp.messageId'] },
          `Dead letter from ${names.input}: ${JSON.stringify(ex.message.body)}`,
        )
        accountedFor()
      })
  })

  const seed = async (): Promise<void> => {
    const producer = ctx.producer()
    for (const body of SEED_MESSAGES) await producer.send(`amqp:queue:${names.input}`, body)
    ctx.logger.info({}, `Seeded ${SEED_MESSAGES.length} messages on ${names.input} (2 of them poison)`)
  }
  return { ctx, seed }
}
