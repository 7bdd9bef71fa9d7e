import { errors } from '../../errors.js'
import type { DefaultExchange, Exchange } from '../../exchange/exchange.js'
import type {
  Component,
  Consumer,
  ConsumerHost,
  Endpoint,
  EndpointUri,
  Producer,
} from '../../spi/component.js'
import type { CoreInternals } from '../internals.js'

interface Slot {
  host: ConsumerHost | undefined
  active: boolean
  /**
   * Set by the consumer's `prepareShutdown`: exchanges already in flight in a route may still call in (the
   * drain needs them to), a call from outside any route (a ProducerTemplate) is refused.
   */
  intakeClosed: boolean
}

function raise(ex: Exchange): void {
  const e = ex.exception
  if (e === undefined) return
  // The called route's failure becomes the calling step's failure, so the caller's onException applies.
  ex.exception = undefined
  throw e
}

class DirectProducer implements Producer {
  readonly #slot: Slot
  readonly #uri: string
  readonly #internals: CoreInternals

  constructor(slot: Slot, uri: string, internals: CoreInternals) {
    this.#slot = slot
    this.#uri = uri
    this.#internals = internals
  }

  process(exchange: Exchange): void | Promise<void> {
    if (this.#internals.level.value === 'shutdown') throw errors.shuttingDown(`send to ${this.#uri}`)
    // Aborted means stopped: an aborted exchange sends nothing more (SPEC §4.1).
    const aborted = (exchange as DefaultExchange).abortReason
    if (aborted !== undefined) throw errors.aborted(aborted)
    const host = this.#slot.host
    if (host === undefined || !this.#slot.active) throw errors.noConsumer(this.#uri)
    if (this.#slot.intakeClosed && !(exchange as DefaultExchange).tracked)
      throw errors.shuttingDown(`send to ${this.#uri}`)
    const r = host.process(exchange)
    if (r === undefined) return raise(exchange)
    return r.then(() => raise(exchange))
  }
}

class DirectConsumer implements Consumer {
  readonly #slot: Slot
  readonly #host: ConsumerHost
  constructor(slot: Slot, host: ConsumerHost) {
    this.#slot = slot
    this.#host = host
  }
  dispose(): void {
    if (this.#slot.host === this.#host) {
      this.#slot.host = undefined
      this.#slot.active = false
    }
  }
  start(): void {
    this.#slot.active = true
    this.#slot.intakeClosed = false
  }
  /** Stops intake from outside the routes; calls from exchanges in flight go on until `stop`. */
  prepareShutdown(): void {
    this.#slot.intakeClosed = true
  }
  stop(): void {
    this.#slot.active = false
  }
  suspend(): void {
    this.#slot.active = false
  }
  resume(): void {
    this.#slot.active = true
    this.#slot.intakeClosed = false
  }
}

/** `direct:name`: a synchronous call into the route consuming it; no consumer → DROMEDARY_ERR_NO_CONSUMER. */
export function directComponent(internals: CoreInternals): Component {
  const slots = new Map<string, Slot>()
  const slotFor = (name: string): Slot => {
    let s = slots.get(name)
    if (s === undefined) slots.set(name, (s = { host: undefined, active: false, intakeClosed: false }))
    return s
  }
  return {
    createEndpoint(uri: EndpointUri): Endpoint {
      uri.parseOptions({})
      if (uri.path === '') throw errors.invalidUri(uri.routeId, uri.uri, 'direct needs a name')
      const slot = slotFor(uri.path)
      return {
        uri: uri.uri,
        createConsumer(host) {
          if (slot.host !== undefined) throw errors.duplicateConsumer(host.routeId, uri.uri)
          slot.host = host
          return new DirectConsumer(slot, host)
        },
        createProducer: () => new DirectProducer(slot, uri.uri, internals),
      }
    },
  }
}
