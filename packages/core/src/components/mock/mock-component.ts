import type { Component, Endpoint, EndpointUri } from '../../spi/component.js'
import { DefaultMockEndpoint } from './mock-endpoint.js'

/** `mock:name`: records what it receives; `ctx.mock(name)` returns it. @internal */
export class MockRegistry {
  readonly #mocks = new Map<string, DefaultMockEndpoint>()

  get(name: string): DefaultMockEndpoint {
    let m = this.#mocks.get(name)
    if (m === undefined) this.#mocks.set(name, (m = new DefaultMockEndpoint(name)))
    return m
  }

  component(): Component {
    return {
      createEndpoint: (uri: EndpointUri): Endpoint => {
        uri.parseOptions({})
        const mock = this.get(uri.path)
        return { uri: uri.uri, createProducer: () => ({ process: (ex) => mock.receive(ex) }) }
      },
    }
  }
}
