/** How a consumed message's content becomes the exchange body, and how a message is named in logs. */
import type { AmqpMessage } from './amqp-channel.js'

/** How a consumer turns message content into the exchange body. */
export type AmqpContentType = 'auto' | 'json' | 'text' | 'binary'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/** The body of a delivery per `contentType=`; throws when the content does not parse. @internal */
export function decode(message: AmqpMessage, mode: AmqpContentType): unknown {
  switch (mode) {
    case 'binary':
      return message.content
    case 'text':
      return message.content.toString('utf8')
    case 'json':
      return JSON.parse(message.content.toString('utf8'))
    case 'auto': {
      const type: unknown = message.properties.contentType
      if (typeof type !== 'string') return message.content
      if (JSON_TYPE.test(type)) return JSON.parse(message.content.toString('utf8'))
      if (type.startsWith('text/')) return message.content.toString('utf8')
      return message.content
    }
  }
}

/** The message id, or a stand-in naming the delivery tag, for logs and errors. @internal */
export function messageIdOf(message: AmqpMessage): string {
  const id: unknown = message.properties.messageId
  return typeof id === 'string' && id !== ''
    ? id
    : `(no message-id, delivery tag ${message.fields.deliveryTag})`
}
