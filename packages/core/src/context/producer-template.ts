import { copyHeaders, DefaultExchange, type Exchange } from '../exchange/exchange.js'
import type { Producer } from '../spi/component.js'

/** Sends messages into routes from outside (Camel `ProducerTemplate`). */
export interface ProducerTemplate {
  /** Sends a message; resolves with the exchange, whose `exception` is set if it failed. */
  send<TBody>(uri: string, body: TBody, headers?: Record<string, unknown>): Promise<Exchange>
  /** Sends a message and resolves with the reply body; rejects with the failure. */
  request<TReply = unknown>(uri: string, body: unknown, headers?: Record<string, unknown>): Promise<TReply>
}

/** @internal */
export function createProducerTemplate(producerFor: (uri: string) => Producer): ProducerTemplate {
  // Not an async function: awaiting a producer that finished synchronously would cost a promise, two
  // closures and two ticks per send, more than a synchronous direct: route itself (issue 8).
  const send = (uri: string, body: unknown, headers?: Record<string, unknown>): Promise<Exchange> => {
    const ex = new DefaultExchange('', uri, body, headers === undefined ? {} : copyHeaders(headers))
    let r: void | Promise<void>
    try {
      r = producerFor(uri).process(ex)
    } catch (err) {
      ex.exception = err
      return Promise.resolve(ex)
    }
    if (r === undefined) return Promise.resolve(ex)
    return Promise.resolve(r).then(
      () => ex,
      (err: unknown) => {
        ex.exception = err
        return ex
      },
    )
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
