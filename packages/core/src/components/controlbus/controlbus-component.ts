import { errors } from '../../errors.js'
import type { Component, Endpoint, EndpointUri, Producer } from '../../spi/component.js'

/** What the control bus may do to its context. @internal */
export interface ControlTarget {
  startRoute(id: string): Promise<void>
  stopRoute(id: string): Promise<boolean>
  suspendRoute(id: string): Promise<void>
  resumeRoute(id: string): Promise<void>
  routeStatus(id: string): string
  stop(): Promise<unknown>
}

const ROUTE_SCHEMA = {
  routeId: { type: 'string' },
  action: { type: 'enum', values: ['start', 'stop', 'suspend', 'resume', 'status'], default: 'status' },
} as const
const CONTEXT_SCHEMA = { action: { type: 'enum', values: ['stop'], default: 'stop' } } as const

/**
 * `controlbus:route?routeId=x&action=start|stop|suspend|resume|status` and `controlbus:context?action=stop`.
 * Stopping is started, not awaited: a route stopping itself from inside an exchange would wait for itself.
 */
export function controlbusComponent(target: () => ControlTarget): Component {
  return {
    createEndpoint(uri: EndpointUri): Endpoint {
      let producer: Producer
      if (uri.path === 'context') {
        uri.parseOptions(CONTEXT_SCHEMA)
        producer = {
          process() {
            void target().stop()
          },
        }
      } else if (uri.path === 'route') {
        const { routeId, action } = uri.parseOptions(ROUTE_SCHEMA)
        if (routeId === undefined)
          throw errors.invalidUri(uri.routeId, uri.uri, 'controlbus:route needs routeId')
        producer = {
          async process(ex) {
            const t = target()
            switch (action) {
              case 'status':
                ex.message.body = t.routeStatus(routeId)
                return
              case 'start':
                return t.startRoute(routeId)
              case 'suspend':
                return t.suspendRoute(routeId)
              case 'resume':
                return t.resumeRoute(routeId)
              case 'stop':
                t.routeStatus(routeId) // unknown id fails the exchange now
                void t.stopRoute(routeId).catch(() => undefined)
                return
            }
          },
        }
      } else {
        throw errors.invalidUri(uri.routeId, uri.uri, 'expected controlbus:route or controlbus:context')
      }
      return { uri: uri.uri, createProducer: () => producer }
    },
  }
}
