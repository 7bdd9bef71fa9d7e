import type { Exchange } from '../exchange/exchange.js'
import type { IntegrationContext } from '../context/context.js'
import type { Component } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'

/**
 * Bounds of the conformance checks. Waits for something that should happen are event-driven and end as soon
 * as it does; only a wait that proves something did NOT happen lasts its whole `quietMs`.
 */
export interface ConformanceTimings {
  /** The longest a check waits for an expected event (a delivery, a stop) before it fails. @default 5000 */
  readonly waitMs?: number
  /** How long a check watches for something that must not happen (no event marks an absence). @default 100 */
  readonly quietMs?: number
  /** `timeoutMs` of the graceful stops the checks make. @default 5000 */
  readonly stopTimeoutMs?: number
  /** `timeoutMs` of a stop that is meant to run out of time (abort and silent-peer checks). @default 300 */
  readonly shortTimeoutMs?: number
  /** `shutdown.nowBudgetMs` of the contexts the checks create. @default 2000 */
  readonly nowBudgetMs?: number
}

/**
 * A peer the subject can make unresponsive (a broker behind a TCP proxy that stops forwarding, an HTTP client
 * that stops sending and reading) while the connections to it stay open.
 */
export interface SilentPeer {
  /** From now on the peer answers nothing; its connections stay open. */
  silence(): void | Promise<void>
  /** Connections between the component and the peer that are still open. */
  openConnections(): number
}

/** One fresh source for one check: a queue with a unique name, a server on its own port, a timer. */
export interface ConsumerFixture {
  /** The endpoint URI the route under test consumes, e.g. `seda:orders-3f9a` or `amqp:queue:q-3f9a?prefetch=2`. */
  readonly uri: string
  /**
   * The components to register in a context (by scheme). Called once per context: a check that starts a second
   * context on the same source gets new instances. Omit for built-in schemes.
   */
  components?(): Readonly<Record<string, Component>>
  /**
   * Feeds one message per id from outside the context; the consumed exchange must let `idOf` read the id back.
   * Resolves once the source holds them (a broker confirmed them, a queue took them) or, for request-reply
   * sources (HTTP, `direct:`), once the requests are sent — it must not wait for their answers. Omit for a source
   * that makes its own messages (a timer): the kit then counts the exchanges it creates.
   */
  feed?(context: IntegrationContext, ids: readonly string[]): Promise<void>
  /**
   * Reads the id `feed` gave a consumed message.
   * @default the body if it is a string, else its `id` property (a Buffer is parsed as JSON first); the exchange
   * id for a source without `feed`
   */
  idOf?(exchange: Exchange): string
  /**
   * How many fed messages are still at the source and not yet taken by the consumer (a broker's ready count);
   * must not take them. Work the consumer took counts as its pending (`pendingExchanges`), not here.
   * @default () => 0
   */
  atSource?(): number | Promise<number>
  /**
   * Called after a context stopped: the ids of fed messages that went back to their source or sender instead of
   * being consumed — left in or requeued to a queue (take them off), or refused to their caller (a 503, a
   * rejected send; wait for every answer first).
   * @default () => []
   */
  drainSource?(): Promise<readonly string[]>
  /** Present when the component has a remote peer the kit may silence (bounded close checks). */
  readonly silentPeer?: SilentPeer
  /** A logger for the contexts (to see what the component said when a check fails). @default silent */
  readonly logger?: Logger
  /** Releases the source (deletes the queue, closes proxies). Runs after every check, also a failed one. */
  teardown?(): void | Promise<void>
}

/** What a consumer can do, so the kit runs the checks that apply and expects the right outcome. */
export interface ConsumerCapabilities {
  /**
   * Unfinished messages go back to their source or sender (a requeue, a 503, a rejected send) instead of being
   * dropped and counted as aborted in the shutdown report (an in-memory queue, a timer).
   */
  readonly handsBack: boolean
  /** The consumer holds intake on `suspend()` and takes it up again on `resume()`. */
  readonly canSuspend: boolean
  /**
   * How many exchanges the consumer runs at once with the fixture's URI (seda `concurrentConsumers`, AMQP
   * `prefetch`); `Infinity` when each request runs at once (HTTP, `direct:`).
   */
  readonly concurrency: number
  /** The fixture has a `silentPeer`: run the bounded-close checks. @default false */
  readonly silentPeer?: boolean
  /**
   * The source keeps what a stopped context left (a broker queue), so a new context on the same fixture consumes
   * it; otherwise the kit sends what was returned again, as a client retrying elsewhere would. @default false
   */
  readonly durable?: boolean
}

/** A consumer under test: how to make a fresh source and what the consumer can do. */
export interface ConsumerSubject {
  /** Names the component in the suite title, e.g. `amqp`. */
  readonly name: string
  readonly capabilities: ConsumerCapabilities
  /** Makes the source of one check. */
  setup(): ConsumerFixture | Promise<ConsumerFixture>
  /** Messages fed per check; above `concurrency` so some wait as pending or at the source. @default 6 */
  readonly messages?: number
  readonly timings?: ConformanceTimings
}

/** One fresh destination for one producer check. */
export interface ProducerFixture {
  /** The endpoint URI the route under test sends to, e.g. `amqp:queue:q-3f9a`. */
  readonly uri: string
  /** The components to register in a context (by scheme). Omit for built-in schemes. */
  components?(): Readonly<Record<string, Component>>
  /** Extra routes the destination needs in the context (the consumer of a `seda:` or `direct:` destination). */
  routes?(context: IntegrationContext): Promise<void>
  /** The ids that reached the destination so far, one entry per arrival (a message arriving twice is listed twice). */
  received(): Promise<readonly string[]>
  /**
   * Makes the destination stop answering with its connections open (a broker that sends no confirms, a
   * consumer route that holds every message); a send is then in flight until its exchange is aborted.
   */
  stall?(): void | Promise<void>
  /** Present when the producer has a remote peer the kit may silence (bounded stop). */
  readonly silentPeer?: SilentPeer
  /** A logger for the contexts. @default silent */
  readonly logger?: Logger
  teardown?(): void | Promise<void>
}

/** What a producer's destination lets the kit do. */
export interface ProducerCapabilities {
  /** The fixture has `stall`: run the check that an abort ends a send in flight. @default false */
  readonly stall?: boolean
  /** The fixture has a `silentPeer`: run the bounded-stop check. @default false */
  readonly silentPeer?: boolean
}

/** A producer under test. */
export interface ProducerSubject {
  readonly name: string
  readonly capabilities?: ProducerCapabilities
  setup(): ProducerFixture | Promise<ProducerFixture>
  /** Messages sent per check. @default 6 */
  readonly messages?: number
  readonly timings?: ConformanceTimings
}
