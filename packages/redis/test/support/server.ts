/**
 * Test support for the real-server suites: an independent node-redis client used as the oracle (filling and
 * reading streams, the pending entries list), unique key names, and hooks that make every test FAIL (never
 * skip) with the reason when Redis is not reachable.
 */
import { randomBytes } from 'node:crypto'
import type { IntegrationContext } from '@dromedary/core'
import { createClient } from 'redis'
import { unreachableError, useService } from '../../../../test/support/use-service.js'

/** The server the suites run against (only ever 127.0.0.1). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

export type OracleClient = ReturnType<typeof createClient>

/** Connects the oracle; fails with an explanation when Redis is not reachable. */
export async function connectRedis(): Promise<RedisOracle> {
  const client = createClient({
    url: REDIS_URL,
    RESP: 2,
    socket: { connectTimeout: 3000, reconnectStrategy: false },
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (err) {
    throw unreachableError(
      'Redis',
      REDIS_URL,
      err,
      'start one (`redis-server --daemonize yes --bind 127.0.0.1 --port 6379`) or set REDIS_URL',
    )
  }
  return new RedisOracle(client as OracleClient)
}

/** Suite hooks (see `useService`) with the Redis oracle. */
export function useRedis(): {
  readonly redis: RedisOracle
  track(ctx: IntegrationContext): IntegrationContext
} {
  const service = useService(connectRedis)
  return {
    get redis() {
      return service.oracle
    },
    track: (ctx) => service.track(ctx),
  }
}

/** The oracle: everything here goes straight to node-redis, never through @dromedary/redis. */
export class RedisOracle {
  readonly #keys = new Set<string>()

  constructor(readonly client: OracleClient) {}

  /** A key unique to this run (deleted by `cleanup`). */
  key(prefix: string): string {
    const k = `dromedary-test:${prefix}:${randomBytes(4).toString('hex')}`
    this.#keys.add(k)
    return k
  }

  /** Appends entries `{ body: JSON, content-type }` for each body. */
  async add(
    stream: string,
    bodies: readonly unknown[],
    fields: Record<string, string> = {},
  ): Promise<string[]> {
    return Promise.all(
      bodies.map((b) =>
        this.client.sendCommand<string>([
          'XADD',
          stream,
          '*',
          'body',
          JSON.stringify(b),
          'content-type',
          'application/json',
          ...Object.entries(fields).flat(),
        ]),
      ),
    )
  }

  /** Appends `{ n }` for n = 0 … count-1. */
  async addNumbers(stream: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 500)
      await this.add(
        stream,
        Array.from({ length: Math.min(500, count - i) }, (_, k) => ({ n: i + k })),
      )
  }

  /** Entries of the group's pending list (read, not acked). */
  async pendingCount(stream: string, group: string): Promise<number> {
    const reply = await this.client.sendCommand<[number]>(['XPENDING', stream, group])
    return Number(reply[0])
  }

  /** Entries not yet delivered to the group (`lag`) plus those pending: what is still to be done. */
  async remaining(stream: string, group: string): Promise<number> {
    const groups = await this.client.sendCommand<unknown[][]>(['XINFO', 'GROUPS', stream])
    const g = groups.find((row) => row[row.indexOf('name') + 1] === group)!
    const lag = Number(g[g.indexOf('lag') + 1])
    return lag + (await this.pendingCount(stream, group))
  }

  /** Every entry of a stream as a field map. */
  async read(stream: string): Promise<Array<{ id: string; fields: Record<string, string> }>> {
    const reply = await this.client.sendCommand<Array<[string, string[]]>>(['XRANGE', stream, '-', '+'])
    return reply.map(([id, flat]) => {
      const fields: Record<string, string> = {}
      for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!
      return { id, fields }
    })
  }

  async cleanup(): Promise<void> {
    if (this.#keys.size > 0) await this.client.sendCommand(['DEL', ...this.#keys])
    this.#keys.clear()
  }

  async close(): Promise<void> {
    await this.cleanup()
    await this.client.close()
  }
}
