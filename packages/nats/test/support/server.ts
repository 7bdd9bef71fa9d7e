/**
 * Test support for the real-server suites: an independent NATS connection used as the oracle (streams,
 * publishing, reading back, consumer state), unique names, and hooks that make every test FAIL (never skip)
 * with the reason when the server is not reachable.
 */
import { randomBytes } from 'node:crypto'
import type { IntegrationContext } from '@dromedary/core'
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream'
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node'
import { unreachableError, useService } from '../../../../test/support/use-service.js'

/** The server the suites run against (only ever 127.0.0.1). */
export const NATS_SERVER = process.env.NATS_SERVER ?? '127.0.0.1:4222'

/** Connects the oracle; fails with an explanation when NATS (with JetStream) is not reachable. */
export async function connectNats(): Promise<NatsOracle> {
  try {
    const nc = await connect({ servers: NATS_SERVER, name: 'dromedary-test-oracle', timeout: 3000 })
    return new NatsOracle(nc, await jetstreamManager(nc))
  } catch (err) {
    throw unreachableError(
      'NATS with JetStream',
      NATS_SERVER,
      err,
      'start one (`nats-server -a 127.0.0.1 -p 4222 -js`) or set NATS_SERVER',
    )
  }
}

/** Suite hooks (see `useService`) with the NATS oracle. */
export function useNats(): { readonly nats: NatsOracle; track(ctx: IntegrationContext): IntegrationContext } {
  const service = useService(connectNats)
  return {
    get nats() {
      return service.oracle
    },
    track: (ctx) => service.track(ctx),
  }
}

/** The oracle: everything here goes straight to the NATS clients, never through @dromedary/nats. */
export class NatsOracle {
  readonly js: JetStreamClient
  readonly #streams = new Set<string>()

  constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
  ) {
    this.js = jetstream(nc)
  }

  /** A name unique to this run (valid as a stream name and as a subject token). */
  name(prefix: string): string {
    return `dromedary_test_${prefix}_${randomBytes(4).toString('hex')}`
  }

  /** A stream capturing `<name>.>`; returns its name (deleted by `cleanup`). */
  async stream(prefix: string, options: { duplicateWindowMs?: number } = {}): Promise<string> {
    const name = this.name(prefix)
    await this.jsm.streams.add({
      name,
      subjects: [`${name}.>`],
      ...(options.duplicateWindowMs === undefined
        ? {}
        : { duplicate_window: options.duplicateWindowMs * 1e6 }),
    })
    this.#streams.add(name)
    return name
  }

  /** Publishes one message per body to `subject` and waits for every ack. */
  async publish(
    subject: string,
    bodies: readonly unknown[],
    options: { headers?: Record<string, string>; contentType?: string | null } = {},
  ): Promise<void> {
    const pending = bodies.map((body) => {
      const h = natsHeaders()
      const contentType = options.contentType === undefined ? 'application/json' : options.contentType
      if (contentType !== null) h.set('Content-Type', contentType)
      for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v)
      const data = typeof body === 'string' ? body : body instanceof Uint8Array ? body : JSON.stringify(body)
      return this.js.publish(subject, data, { headers: h })
    })
    await Promise.all(pending)
  }

  /** Publishes `{ n }` for n = 0 … count-1 as JSON to `<stream>.in`. */
  async publishNumbers(stream: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 500)
      await this.publish(
        `${stream}.in`,
        Array.from({ length: Math.min(500, count - i) }, (_, k) => ({ n: i + k })),
      )
  }

  /** The state of a durable consumer: unacknowledged (`num_ack_pending`) and undelivered (`num_pending`). */
  consumerInfo(stream: string, consumer: string): Promise<ConsumerInfo> {
    return this.jsm.consumers.info(stream, consumer)
  }

  /** Messages stored in a stream. */
  async count(stream: string): Promise<number> {
    return (await this.jsm.streams.info(stream)).state.messages
  }

  /** Every message of a stream, in order (read directly, not through a consumer). */
  async read(
    stream: string,
  ): Promise<Array<{ subject: string; data: string; headers: Record<string, string> }>> {
    const n = await this.count(stream)
    const out = []
    const info = await this.jsm.streams.info(stream)
    for (let seq = info.state.first_seq; out.length < n && seq <= info.state.last_seq; seq++) {
      const m = await this.jsm.streams.getMessage(stream, { seq }).catch(() => null)
      if (m === null) continue
      const headers: Record<string, string> = {}
      for (const k of m.header?.keys() ?? []) headers[k] = m.header.get(k)
      out.push({ subject: m.subject, data: m.string(), headers })
    }
    return out
  }

  /** Creates a durable pull consumer with explicit acks (as @dromedary/nats would). */
  async consumer(stream: string, name: string, ackWaitMs = 30_000): Promise<void> {
    await this.jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ackWaitMs * 1e6,
      max_deliver: -1,
    })
  }

  /** Fetches up to `max` messages from a durable consumer and hands each to `fn` (to nak, ack, …). */
  async fetch(stream: string, consumer: string, max: number, fn: (m: JsMsg) => void): Promise<number> {
    const c = await this.js.consumers.get(stream, consumer)
    const it = await c.fetch({ max_messages: max, expires: 1000 })
    let n = 0
    for await (const m of it) {
      n++
      fn(m)
    }
    return n
  }

  async cleanup(): Promise<void> {
    for (const s of this.#streams) await this.jsm.streams.delete(s).catch(() => false)
    this.#streams.clear()
  }

  async close(): Promise<void> {
    await this.cleanup()
    await this.nc.drain()
  }
}
