import { bodyText as text } from '../../exchange/body-text.js'
import type { Exchange } from '../../exchange/exchange.js'
import type { Component, Endpoint, EndpointUri } from '../../spi/component.js'
import type { Logger } from '../../spi/logger.js'

const SCHEMA = {
  level: { type: 'enum', values: ['debug', 'info', 'warn', 'error'], default: 'info' },
  showBody: { type: 'boolean', default: true },
  showHeaders: { type: 'boolean', default: false },
} as const

/** `log:name?level=info&showBody=true&showHeaders=false`: logs the exchange through the context logger. */
export function logComponent(logger: () => Logger): Component {
  return {
    createEndpoint(uri: EndpointUri): Endpoint {
      const { level, showBody, showHeaders } = uri.parseOptions(SCHEMA)
      const name = uri.path
      const lvl = level as 'debug' | 'info' | 'warn' | 'error'
      return {
        uri: uri.uri,
        createProducer: () => ({
          process(ex: Exchange) {
            const parts: string[] = []
            if (showHeaders) parts.push(`Headers: ${text(ex.message.headers)}`)
            if (showBody) parts.push(`Body: ${text(ex.message.body)}`)
            logger()[lvl]({ logger: name, exchangeId: ex.id }, `Exchange[${parts.join(', ')}]`)
          },
        }),
      }
    },
  }
}
