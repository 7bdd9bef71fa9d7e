/**
 * Topology as configuration (Rascal's and Spring AMQP's declarables): the exchanges, queues and bindings
 * a component declares when it starts and again after every reconnect, before any consumer subscribes.
 */
import type { Logger } from '@dromedary/core'
import type { AmqpChannel } from './amqp-channel.js'
import type { AmqpSession } from './amqp-connection.js'
import type { AmqpExchangeType } from './amqp-producer.js'
import { errors } from './errors.js'

/** An exchange to declare. */
export interface AmqpExchangeDeclaration {
  readonly name: string
  /** `direct`, `fanout`, `topic`, `headers`, or a plugin's type such as `x-delayed-message`. */
  readonly type: AmqpExchangeType | (string & {})
  /** Survives a broker restart. @default true */
  readonly durable?: boolean
  /** Deleted by the broker once its last binding is removed. @default false */
  readonly autoDelete?: boolean
  /** Only other exchanges can publish to it. @default false */
  readonly internal?: boolean
  /** Exchange arguments, e.g. `{ 'alternate-exchange': 'unrouted' }`. @default {} */
  readonly arguments?: Readonly<Record<string, unknown>>
}

/** A queue to declare. */
export interface AmqpQueueDeclaration {
  readonly name: string
  /** Survives a broker restart. @default true */
  readonly durable?: boolean
  /** Used by this connection only and deleted with it. @default false */
  readonly exclusive?: boolean
  /** Deleted by the broker once its last consumer is gone. @default false */
  readonly autoDelete?: boolean
  /** Queue arguments, e.g. `{ 'x-queue-type': 'quorum', 'x-dead-letter-exchange': 'orders.dlx' }`. @default {} */
  readonly arguments?: Readonly<Record<string, unknown>>
}

/** A binding from an exchange to a queue (`queue`) or to another exchange (`toExchange`); give exactly one. */
export interface AmqpBindingDeclaration {
  /** The source exchange. */
  readonly exchange: string
  readonly queue?: string
  readonly toExchange?: string
  /** Routing key or pattern. @default '' */
  readonly routingKey?: string
  /** Binding arguments (headers exchanges: `{ 'x-match': 'all', … }`). @default {} */
  readonly arguments?: Readonly<Record<string, unknown>>
}

/** What `amqpComponent({ topology })` declares; every part is optional. */
export interface AmqpTopology {
  readonly exchanges?: readonly AmqpExchangeDeclaration[]
  readonly queues?: readonly AmqpQueueDeclaration[]
  readonly bindings?: readonly AmqpBindingDeclaration[]
}

const MAX_NAME_BYTES = 255

/** Checks the shape of a topology; throws DROMEDARY_ERR_AMQP_INVALID_CONFIG naming the bad entry. @internal */
export function validateTopology(topology: unknown): AmqpTopology | undefined {
  if (topology === undefined) return undefined
  if (typeof topology !== 'object' || topology === null)
    throw errors.invalidConfig('"topology" must be an object')
  const t = topology as Record<string, unknown>
  for (const key of Object.keys(t)) {
    if (key !== 'exchanges' && key !== 'queues' && key !== 'bindings')
      throw errors.invalidConfig(`"topology.${key}" is not a topology option (exchanges, queues, bindings)`)
  }
  const exchanges = list(t.exchanges, 'exchanges')
  const queues = list(t.queues, 'queues')
  const bindings = list(t.bindings, 'bindings')
  unique(exchanges, 'exchanges', (x, at) => {
    name(x.name, `${at}.name`)
    if (typeof x.type !== 'string' || x.type === '') throw errors.invalidConfig(`"${at}.type" is required`)
    flags(x, at, ['durable', 'autoDelete', 'internal'])
    args(x.arguments, at)
  })
  unique(queues, 'queues', (q, at) => {
    name(q.name, `${at}.name`)
    flags(q, at, ['durable', 'exclusive', 'autoDelete'])
    args(q.arguments, at)
  })
  bindings.forEach((b, i) => {
    const at = `topology.bindings[${i}]`
    name(b.exchange, `${at}.exchange`)
    if ((b.queue === undefined) === (b.toExchange === undefined))
      throw errors.invalidConfig(`"${at}" needs exactly one of "queue" and "toExchange"`)
    if (b.queue !== undefined) name(b.queue, `${at}.queue`)
    if (b.toExchange !== undefined) name(b.toExchange, `${at}.toExchange`)
    if (b.routingKey !== undefined && typeof b.routingKey !== 'string')
      throw errors.invalidConfig(`"${at}.routingKey" must be a string`)
    args(b.arguments, at)
  })
  return topology
}

function list(value: unknown, key: string): Array<Record<string, unknown>> {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw errors.invalidConfig(`"topology.${key}" must be an array`)
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null)
      throw errors.invalidConfig(`"topology.${key}[${i}]" must be an object`)
    return entry as Record<string, unknown>
  })
}

function unique(
  entries: Array<Record<string, unknown>>,
  key: string,
  check: (entry: Record<string, unknown>, at: string) => void,
): void {
  const seen = new Set<unknown>()
  entries.forEach((entry, i) => {
    const at = `topology.${key}[${i}]`
    check(entry, at)
    if (seen.has(entry.name))
      throw errors.invalidConfig(`"${at}.name" "${String(entry.name)}" is declared twice`)
    seen.add(entry.name)
  })
}

function name(value: unknown, at: string): void {
  if (typeof value !== 'string' || value === '')
    throw errors.invalidConfig(`"${at}" must be a non-empty string`)
  if (Buffer.byteLength(value) > MAX_NAME_BYTES)
    throw errors.invalidConfig(`"${at}" is longer than ${MAX_NAME_BYTES} bytes`)
}

function flags(entry: Record<string, unknown>, at: string, names: readonly string[]): void {
  for (const n of names)
    if (entry[n] !== undefined && typeof entry[n] !== 'boolean')
      throw errors.invalidConfig(`"${at}.${n}" must be a boolean`)
}

function args(value: unknown, at: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)))
    throw errors.invalidConfig(`"${at}.arguments" must be an object`)
}

/** Hands out an open channel, opening a new one after a failed passive check closed the last. */
class ChannelSource {
  #channel: AmqpChannel | undefined
  constructor(readonly session: AmqpSession) {}

  async get(): Promise<AmqpChannel> {
    // Quiet: a passive declare of something missing closes the channel, and that is an answer, not a fault.
    if (this.#channel?.isOpen !== true) this.#channel = await this.session.openChannel({ quiet: true })
    return this.#channel
  }

  /** True when `check` (a passive declare, which closes the channel when it fails) succeeds. */
  async exists(check: (channel: AmqpChannel) => Promise<void>): Promise<boolean> {
    try {
      await check(await this.get())
      return true
    } catch {
      return false
    }
  }

  close(): void {
    if (this.#channel !== undefined) void this.#channel.close()
  }
}

/**
 * Declares the topology, in order: exchanges, queues, bindings. Declaring is idempotent (a declaration that
 * matches what exists changes nothing; one that differs fails with DROMEDARY_ERR_AMQP_TOPOLOGY). With
 * `undoOnFailure` (at start), a failure deletes the exchanges and queues this call created — found missing
 * by a passive declare just before — so a failed start leaves nothing half-declared behind.
 * @internal
 */
export async function declareTopology(
  session: AmqpSession,
  topology: AmqpTopology,
  options: { readonly undoOnFailure: boolean; readonly logger: Logger },
): Promise<void> {
  const source = new ChannelSource(session)
  const created: Array<{ kind: 'queue' | 'exchange'; name: string }> = []
  const track = options.undoOnFailure
  // Passive declare first (at start): what was missing and is then declared is this call's to undo.
  const declare = async (
    kind: 'queue' | 'exchange',
    name: string,
    assert: (ch: AmqpChannel) => Promise<void>,
  ) => {
    const fresh =
      track &&
      !(await source.exists((ch) => (kind === 'queue' ? ch.checkQueue(name) : ch.checkExchange(name))))
    await assert(await source.get())
    if (fresh) created.push({ kind, name })
  }
  try {
    for (const x of topology.exchanges ?? [])
      await declare('exchange', x.name, (ch) =>
        ch.assertExchange(x.name, x.type, {
          durable: x.durable ?? true,
          autoDelete: x.autoDelete ?? false,
          internal: x.internal ?? false,
          arguments: { ...x.arguments },
        }),
      )
    for (const q of topology.queues ?? [])
      await declare('queue', q.name, (ch) =>
        ch.assertQueue(q.name, {
          durable: q.durable ?? true,
          exclusive: q.exclusive ?? false,
          autoDelete: q.autoDelete ?? false,
          arguments: { ...q.arguments },
        }),
      )
    for (const b of topology.bindings ?? []) {
      const ch = await source.get()
      const key = b.routingKey ?? ''
      if (b.queue !== undefined) await ch.bindQueue(b.queue, b.exchange, key, { ...b.arguments })
      else await ch.bindExchange(b.toExchange!, b.exchange, key, { ...b.arguments })
    }
  } catch (err) {
    if (created.length > 0) await undo(source, created.reverse(), options.logger)
    throw err
  } finally {
    source.close()
  }
}

async function undo(
  source: ChannelSource,
  created: ReadonlyArray<{ kind: 'queue' | 'exchange'; name: string }>,
  logger: Logger,
): Promise<void> {
  for (const { kind, name: n } of created) {
    try {
      const ch = await source.get()
      if (kind === 'queue') await ch.deleteQueue(n)
      else await ch.deleteExchange(n)
    } catch (err) {
      logger.warn({ err, [kind]: n }, `Could not delete the ${kind} "${n}" declared by a failed start`)
    }
  }
}
