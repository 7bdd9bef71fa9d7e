import type { Exchange, HeaderFilter, Producer } from '@dromedary/core'
import type { RedisConnection } from './redis-connection.js'
import { encodeEntry } from './redis-fields.js'
import type { PublishCounters } from './redis-metrics.js'
import { errors } from './errors.js'
import { abortableExchange, abortReason } from '@dromedary/core'

/** Settings of `to('redis:stream:KEY?…')`. @internal */
export interface RedisProducerSettings {
  readonly stream: string
  /** Approximate trimming (`MAXLEN ~ n`); undefined: no trimming. */
  readonly maxLen: number | undefined
  readonly headerFilter: HeaderFilter | undefined
  readonly counters: PublishCounters
}

/**
 * `XADD` of the body (field `body`, with `content-type`) and the safe headers (one field each); the exchange
 * completes once Redis has added the entry. Sets header `redis.id` to the new entry's id.
 * @internal
 */
export class RedisProducer implements Producer {
  readonly #connection: () => RedisConnection
  readonly #s: RedisProducerSettings
  readonly #head: string[]

  constructor(connection: () => RedisConnection, settings: RedisProducerSettings) {
    this.#connection = connection
    this.#s = settings
    this.#head =
      settings.maxLen === undefined
        ? ['XADD', settings.stream, '*']
        : ['XADD', settings.stream, 'MAXLEN', '~', String(settings.maxLen), '*']
  }

  async process(exchange: Exchange): Promise<void> {
    const s = this.#s
    const fields = encodeEntry(
      exchange.message.body,
      exchange.message.headers,
      s.headerFilter,
      `stream "${s.stream}"`,
    )
    const aborted = abortReason(exchange)
    if (aborted !== undefined) throw errors.aborted(`XADD to stream "${s.stream}"`, aborted)
    let id: unknown
    try {
      id = await abortableExchange(this.#connection().sendCommand([...this.#head, ...fields]), exchange)
    } catch (err) {
      s.counters.failed.inc()
      const reason = abortReason(exchange)
      if (reason !== undefined)
        throw errors.aborted(`XADD to stream "${s.stream}" (it may have been added)`, reason)
      throw errors.publishFailed(s.stream, err)
    }
    s.counters.added.inc()
    exchange.message.headers['redis.id'] = String(id)
  }
}
