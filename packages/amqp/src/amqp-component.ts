import type { Component, ComponentContext, Endpoint, EndpointUri, Logger, StopOptions } from '@dromedary/core'
import { AmqpConnection } from './amqp-connection.js'
import { createAmqpEndpoint } from './amqp-endpoint.js'
import { AmqpHeaderRules } from './amqp-headers.js'
import { AmqpMetrics } from './amqp-metrics.js'
import { validateOptions, type AmqpComponentOptions, type AmqpSettings } from './amqp-options.js'
import { declareTopology } from './amqp-topology.js'
import { settlesWithin } from './bounded.js'
import { errors } from './errors.js'
import { IdleLatch } from './idle-latch.js'

export type { AmqpComponentOptions, AmqpReconnectOptions } from './amqp-options.js'

type ComponentState = 'created' | 'starting' | 'started' | 'closing' | 'closed'

/**
 * The `amqp:` component: one recovering connection per component, shared by its consumers (one channel
 * each) and producers (one confirm channel each).
 * @example ctx.addComponent('amqp', amqpComponent({ url: 'amqp://guest:guest@127.0.0.1:5672' }))
 */
export function amqpComponent(options: AmqpComponentOptions): Component {
  return new AmqpComponent(validateOptions(options))
}

class AmqpComponent implements Component {
  readonly #settings: AmqpSettings
  readonly #unconfirmed = new IdleLatch()
  readonly #headers: AmqpHeaderRules
  #state: ComponentState = 'created'
  #connection: AmqpConnection | undefined = undefined
  #metrics: AmqpMetrics | undefined = undefined
  #logger: Logger | undefined = undefined
  #closing: Promise<void> | undefined = undefined

  constructor(settings: AmqpSettings) {
    this.#settings = settings
    this.#headers = new AmqpHeaderRules(settings.headerFilter)
  }

  /** Unhealthy once the connection's recovery gave up (`reconnect.maxRetries` exhausted): not ready. */
  healthy(): boolean {
    return this.#connection?.gaveUp !== true
  }

  createEndpoint(uri: EndpointUri, context: ComponentContext): Endpoint {
    this.#bind(context)
    const s = this.#settings
    return createAmqpEndpoint(uri, {
      connection: () => this.#requireConnection(),
      metrics: () => this.#metrics!,
      unconfirmed: this.#unconfirmed,
      headers: this.#headers,
      resubscribe: { initialDelayMs: s.reconnect.initialDelayMs, maxDelayMs: s.reconnect.maxDelayMs },
      closeTimeoutMs: s.closeTimeoutMs,
    })
  }

  /** Connects, then declares the topology; a failure closes the connection and undoes what it declared. */
  async start(context: ComponentContext): Promise<void> {
    if (this.#state !== 'created') return
    this.#state = 'starting'
    this.#bind(context)
    const s = this.#settings
    const connection = new AmqpConnection({
      url: s.url,
      heartbeatSeconds: s.heartbeatSeconds,
      initialDelayMs: s.reconnect.initialDelayMs,
      maxDelayMs: s.reconnect.maxDelayMs,
      maxRetries: s.reconnect.maxRetries,
      initialMaxRetries: s.reconnect.initialMaxRetries,
      connectTimeoutMs: s.connectTimeoutMs,
      connectionName: s.connectionName ?? context.name,
      logger: context.logger,
      onReconnect: () => this.#metrics?.reconnected(),
    })
    try {
      await connection.open()
    } catch (err) {
      this.#state = 'created'
      throw err
    }
    const topology = s.topology
    if (topology !== undefined) {
      const logger = context.logger
      try {
        await declareTopology(await connection.session(), topology, { undoOnFailure: true, logger })
      } catch (err) {
        await connection.close({ timeoutMs: s.closeTimeoutMs })
        this.#state = 'created'
        throw err
      }
      connection.setTopology((session) =>
        declareTopology(session, topology, { undoOnFailure: false, logger }),
      )
    }
    this.#connection = connection
    this.#state = 'started'
  }

  /**
   * Called at NOW after every route stopped: waits for outstanding confirms (unless forced), then closes the
   * connection. Every wait ends after `closeTimeoutMs` or when `signal` aborts; then the socket is destroyed,
   * so this resolves promptly even when the broker never answers.
   */
  close(options: StopOptions): Promise<void> {
    this.#closing ??= this.#close(options)
    return this.#closing
  }

  async #close({ forced, signal }: StopOptions): Promise<void> {
    this.#state = 'closing'
    const connection = this.#connection
    const timeoutMs = this.#settings.closeTimeoutMs
    if (connection !== undefined && !forced && this.#unconfirmed.count > 0) {
      if (!(await settlesWithin(this.#unconfirmed.whenIdle(), timeoutMs, signal))) {
        const left = this.#unconfirmed.count
        this.#logger?.warn(
          { connection: connection.target, unconfirmed: left },
          `Closing the AMQP connection with ${left} publish(es) still unconfirmed after ${timeoutMs} ms; their exchanges fail`,
        )
      }
    }
    if (connection !== undefined && !(await connection.close({ timeoutMs, signal }))) {
      this.#logger?.warn(
        { connection: connection.target },
        `The AMQP broker did not answer Connection.Close within ${timeoutMs} ms; destroyed the socket (unacknowledged messages return to their queues)`,
      )
    }
    this.#state = 'closed'
  }

  #bind(context: ComponentContext): void {
    this.#logger ??= context.logger
    this.#metrics ??= new AmqpMetrics(context.metrics)
  }

  #requireConnection(): AmqpConnection {
    if (this.#connection === undefined || this.#state === 'closed') {
      throw errors.notStarted('use an AMQP endpoint')
    }
    return this.#connection
  }
}
