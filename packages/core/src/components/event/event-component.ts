import type { Component, Consumer, ConsumerHost, Endpoint, EndpointUri } from '../../spi/component.js'

/** Delivers type-key-value events to the routes consuming `event:name` (Kamailio `event_route[core:tkv]`). @internal */
export class EventBus {
  readonly #consumers = new Map<string, Set<ConsumerHost>>()

  emit(name: string, type: string, key: string, value: unknown): void {
    const hosts = this.#consumers.get(name)
    if (hosts === undefined) return
    for (const host of hosts) {
      const r = host.process(host.createExchange(value, { 'tkv.type': type, 'tkv.key': key }))
      if (r !== undefined) r.catch(() => undefined)
    }
  }

  component(): Component {
    return {
      createEndpoint: (uri: EndpointUri): Endpoint => {
        uri.parseOptions({})
        const name = uri.path
        return {
          uri: uri.uri,
          createConsumer: (host): Consumer => {
            const attach = (): void => {
              let set = this.#consumers.get(name)
              if (set === undefined) this.#consumers.set(name, (set = new Set()))
              set.add(host)
            }
            const detach = (): void => {
              this.#consumers.get(name)?.delete(host)
            }
            // Like direct and seda, an internal endpoint: it keeps taking events while the routes that emit
            // them drain, and detaches only when stopped.
            return { start: attach, resume: attach, stop: detach, suspend: detach }
          },
          createProducer: () => ({
            process: (ex) => {
              const h = ex.message.headers
              const str = (v: unknown) => (typeof v === 'string' ? v : '')
              this.emit(name, str(h['tkv.type']), str(h['tkv.key']), ex.message.body)
            },
          }),
        }
      },
    }
  }
}
