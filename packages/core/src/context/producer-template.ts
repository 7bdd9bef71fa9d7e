import { isThenable } from '../engine/step.js'
import { copyHeaders, DefaultExchange, type Exchange } from '../exchange/exchange.js'
import type { Producer } from '../spi/component.js'

/** Sends messages into routes from outside (Camel `ProducerTemplate`). */
export interface ProducerTemplate {
  /** Sends a message; resolves with the exchange, whose `exception` is set if it failed. */
  send<TBody>(uri: string, body: TBody, headers?: Record<string, unknown>): Promise<Exchange>
  /** Sends a message and resolves with the reply body; rejects with the failure. */
  request<TReply = unknown>(uri: string, body: unknown, headers?: Record<string, unknown>): Promise<TReply>
}

/** Where the template gets its producers: a bounded cache; a producer still starting comes as a promise. */
export interface ProducerSource {
  get(uri: string): Producer | Promise<Producer>
}

/** @internal */
export function createProducerTemplate(producers: ProducerSource): ProducerTemplate {
  const settle = (ex: DefaultExchange, r: void | Promise<void>): Promise<Exchange> => {
    if (r === undefined) return Promise.resolve(ex)
    return Promise.resolve(r).then(
      () => ex,
      (err: unknown) => {
        ex.exception = err
        return ex
      },
    )
  }
  // Not an async function: awaiting a producer that finished synchronously would cost a promise, two
  // closures and two ticks per send, more than a synchronous direct: route itself (issue 8).
  const send = (uri: string, body: unknown, headers?: Record<string, unknown>): Promise<Exchange> => {
    const ex = new DefaultExchange('', uri, body, headers === undefined ? {} : copyHeaders(headers))
    let r: void | Promise<void>
    try {
      const p = producers.get(uri)
      r = isThenable(p) ? p.then((started) => started.process(ex)) : p.process(ex)
    } catch (err) {
      ex.exception = err
      return Promise.resolve(ex)
    }
    return settle(ex, r)
  }
  return {
    send,
    async request<TReply>(uri: string, body: unknown, headers?: Record<string, unknown>): Promise<TReply> {
      const ex = await send(uri, body, headers)
      if (ex.exception !== undefined) throw ex.exception
      return ex.message.body as TReply
    },
  }
}
