import type { Component, Consumer, ConsumerHost, Endpoint, EndpointUri } from '../../spi/component.js'

const SCHEMA = {
  period: { type: 'duration', default: 1000 },
  delay: { type: 'duration', default: 0 },
  repeatCount: { type: 'number', default: 0, min: 0, integer: true },
} as const

/**
 * Fires after `delay`, then `period` after each exchange completes (Camel's fixed-delay timer). One firing
 * chain at most: resuming while an exchange is still running schedules nothing — its completion does.
 */
class TimerConsumer implements Consumer {
  #timer: NodeJS.Timeout | undefined
  #count = 0
  #active = false
  /** An exchange of this timer is running; its completion schedules the next fire. */
  #running = false

  constructor(
    readonly name: string,
    readonly host: ConsumerHost,
    readonly opts: { period: number; delay: number; repeatCount: number },
  ) {}

  readonly #fire = (): void => {
    this.#timer = undefined
    if (!this.#active) return
    const n = ++this.#count
    const ex = this.host.createExchange(null, {
      'timer.name': this.name,
      'timer.counter': n,
      'timer.firedTime': Date.now(),
    })
    this.#running = true
    const r = this.host.process(ex)
    if (r === undefined) this.#completed()
    else r.then(this.#completed, this.#completed)
  }

  readonly #completed = (): void => {
    this.#running = false
    this.#next()
  }

  readonly #next = (): void => {
    if (!this.#active || this.#running || this.#timer !== undefined) return
    if (this.opts.repeatCount > 0 && this.#count >= this.opts.repeatCount) return
    this.#timer = setTimeout(this.#fire, this.opts.period)
  }

  start(): void {
    this.#active = true
    this.#count = 0
    clearTimeout(this.#timer)
    this.#timer = this.#running ? undefined : setTimeout(this.#fire, this.opts.delay)
  }

  #halt(): void {
    this.#active = false
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  suspend(): void {
    this.#halt()
  }

  resume(): void {
    this.#active = true
    this.#next()
  }

  prepareShutdown(): void {
    this.#halt()
  }

  stop(): void {
    this.#halt()
  }
}

/** `timer:name?period=1000&delay=0&repeatCount=0` (0 = forever). */
export function timerComponent(): Component {
  return {
    createEndpoint(uri: EndpointUri): Endpoint {
      const opts = uri.parseOptions(SCHEMA)
      return { uri: uri.uri, createConsumer: (host) => new TimerConsumer(uri.path, host, opts) }
    },
  }
}
