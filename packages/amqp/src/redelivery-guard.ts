/**
 * `maxRedeliveries` across process crashes. A message that crashes the process is requeued by the broker
 * with nothing but a `redelivered` flag, so the count cannot live in the consumer's memory: it travels in
 * the message. A redelivered message is republished (a copy, same properties, to the tail of its queue)
 * with header `x-dromedary-delivery-count` = the deliveries it had so far, and the original is acked once
 * the broker confirms the copy; only the copy is processed. A delivery whose count exceeds
 * `maxRedeliveries` is refused (dead-lettered, or rejected with an error log) without running the route.
 * So a message runs at most `maxRedeliveries + 1` times, whatever kills the process in between.
 *
 * A copy that ran before is a suspect: it may be what killed the last process. The consumer runs it on its
 * own — no new deliveries, nothing else running or taken — so that if it kills this process too, no other
 * message is requeued with it and charged a delivery it did not cause.
 *
 * Works the same on classic and quorum queues and on every broker version (quorum `x-delivery-count` is
 * honoured when it is larger, never relied on). The price: one publish and confirm per redelivery (never on
 * a first delivery), and a redelivered message goes to the tail of its queue.
 */
import type { AmqpMessage, AmqpPublishOptions } from './amqp-channel.js'

/** The header that carries the number of earlier deliveries of a republished message. */
export const DELIVERY_COUNT_HEADER = 'x-dromedary-delivery-count'

/** What to do with a delivery when `maxRedeliveries` is set. @internal */
export interface RedeliveryVerdict {
  /** `process` also for a copy that ran before (`earlierDeliveries` > 0): a suspect, run on its own. */
  readonly action: 'process' | 'refuse' | 'republish'
  readonly earlierDeliveries: number
}

const FIRST_DELIVERY: RedeliveryVerdict = { action: 'process', earlierDeliveries: 0 }

// Never copied onto the republished message: CC/BCC would route a second copy elsewhere, and a stale
// x-delivery-count would be taken for the broker's on a quorum queue.
const NOT_COPIED = new Set(['CC', 'BCC', 'x-delivery-count'])

/** How many times this message was delivered before this delivery (0 for a first delivery). */
export function earlierDeliveries(message: AmqpMessage): number {
  const headers = message.properties.headers
  const carried: unknown = headers?.[DELIVERY_COUNT_HEADER]
  let count = (isCount(carried) ? carried : 0) + (message.fields.redelivered ? 1 : 0)
  const broker: unknown = headers?.['x-delivery-count']
  if (message.fields.redelivered && isCount(broker) && broker > count) count = broker
  return count
}

/** Process, refuse (over the limit) or republish with its count (a redelivery within the limit). @internal */
export function redeliveryVerdict(message: AmqpMessage, maxRedeliveries: number): RedeliveryVerdict {
  // The common case costs one property read: a first delivery that was never republished.
  if (!message.fields.redelivered && message.properties.headers?.[DELIVERY_COUNT_HEADER] === undefined)
    return FIRST_DELIVERY
  const earlier = earlierDeliveries(message)
  if (earlier > maxRedeliveries) return { action: 'refuse', earlierDeliveries: earlier }
  return { action: message.fields.redelivered ? 'republish' : 'process', earlierDeliveries: earlier }
}

/**
 * The properties of the copy: the original's, with the count header set and without `userId` (the broker
 * checks it against the publishing user).
 * @internal
 */
export function republishOptions(
  message: AmqpMessage,
  earlier: number,
  fallbackId: string,
): AmqpPublishOptions {
  const p = message.properties
  const headers: Record<string, unknown> = {}
  if (p.headers !== undefined)
    for (const name of Object.keys(p.headers)) if (!NOT_COPIED.has(name)) headers[name] = p.headers[name]
  headers[DELIVERY_COUNT_HEADER] = earlier
  const id: unknown = p.messageId
  const options: AmqpPublishOptions = {
    messageId: typeof id === 'string' && id !== '' ? id : fallbackId,
    headers,
    mandatory: true,
  }
  const copy = options as unknown as Record<string, unknown>
  for (const key of COPIED) if (p[key] !== undefined) copy[key] = p[key]
  return options
}

const COPIED = [
  'contentType',
  'contentEncoding',
  'deliveryMode',
  'priority',
  'correlationId',
  'replyTo',
  'expiration',
  'timestamp',
  'type',
  'appId',
] as const

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0
}
