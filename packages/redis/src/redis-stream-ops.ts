import type { RedisConnection, StreamEntry } from './redis-connection.js'
import { parseEntries } from './redis-connection.js'
import { errors } from './errors.js'

// Idle time given to entries handed back at shutdown: older than any sensible minIdleMs, so the next
// consumer's XAUTOCLAIM takes them at once.
const HANDED_BACK_IDLE_MS = '2147483647'

/**
 * The consumer-group commands one consumer issues on the command connection, for one stream, group and
 * consumer name.
 * @internal
 */
export class StreamOps {
  readonly #c: RedisConnection

  constructor(
    connection: RedisConnection,
    readonly key: string,
    readonly group: string,
    readonly consumer: string,
  ) {
    this.#c = connection
  }

  /** `XGROUP CREATE … MKSTREAM` when `create`; an existing group is fine. Otherwise checks it exists. */
  async ensureGroup(startId: string, create: boolean): Promise<void> {
    try {
      if (create) {
        await this.#c
          .sendCommand(['XGROUP', 'CREATE', this.key, this.group, startId, 'MKSTREAM'])
          .catch((err: unknown) => {
            if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err
          })
      }
      const groups = (await this.#c.sendCommand(['XINFO', 'GROUPS', this.key])) as unknown[][]
      const names = groups.map((g) => String(g[g.indexOf('name') + 1]))
      if (!names.includes(this.group)) throw new Error('the group does not exist (createGroup=false)')
    } catch (err) {
      throw errors.group(this.key, this.group, err)
    }
  }

  ack(ids: readonly string[]): Promise<unknown> {
    return this.#c.sendCommand(['XACK', this.key, this.group, ...ids])
  }

  /** `XAUTOCLAIM`: entries idle for `minIdleMs` or more, from any consumer, become this consumer's. */
  async claim(
    minIdleMs: number,
    start: string,
    count: number,
  ): Promise<{ next: string; entries: StreamEntry[]; deleted: string[] }> {
    const reply = (await this.#c.sendCommand([
      'XAUTOCLAIM',
      this.key,
      this.group,
      this.consumer,
      String(minIdleMs),
      start,
      'COUNT',
      String(count),
    ])) as [string, unknown[], string[] | undefined]
    return {
      next: String(reply[0]),
      entries: parseEntries(reply[1]),
      deleted: (reply[2] ?? []).map(String),
    }
  }

  /** The delivery count of each of `ids` (pending for this consumer), from `XPENDING` (pipelined, one per id). */
  async deliveryCounts(ids: readonly string[]): Promise<Map<string, number>> {
    const rows = await Promise.all(
      ids.map(
        (id) =>
          this.#c.sendCommand(['XPENDING', this.key, this.group, id, id, '1', this.consumer]) as Promise<
            Array<[string, string, number, number]>
          >,
      ),
    )
    const out = new Map<string, number>()
    rows.forEach((r, i) => out.set(ids[i]!, r[0] === undefined ? 1 : Number(r[0][3])))
    return out
  }

  /**
   * Leaves `ids` pending but idle "forever", so the next consumer's XAUTOCLAIM takes them at once; with
   * `retryCount`, also resets their delivery count (entries read but never started do not count as a delivery).
   */
  handBack(ids: readonly string[], retryCount?: number): Promise<unknown> {
    const args = ['XCLAIM', this.key, this.group, this.consumer, '0', ...ids, 'IDLE', HANDED_BACK_IDLE_MS]
    if (retryCount !== undefined) args.push('RETRYCOUNT', String(retryCount))
    args.push('JUSTID')
    return this.#c.sendCommand(args)
  }

  /**
   * Resets the idle time of `ids` (still being worked on), without counting a delivery. Only entries idle for
   * `minIdleMs` are touched: one another consumer has claimed since (its idle time was reset then) is left to it.
   */
  touch(ids: readonly string[], minIdleMs: number): Promise<unknown> {
    return this.#c.sendCommand([
      'XCLAIM',
      this.key,
      this.group,
      this.consumer,
      String(minIdleMs),
      ...ids,
      'JUSTID',
    ])
  }

  /** Copies an entry to the dead-letter stream (with why, from where and how often), then acks it. */
  async deadLetter(target: string, entry: StreamEntry, reason: string, deliveries: number): Promise<void> {
    await this.#c.sendCommand([
      'XADD',
      target,
      '*',
      ...entry.fields,
      'dromedary-dead-letter-reason',
      reason,
      'dromedary-original-stream',
      this.key,
      'dromedary-original-id',
      entry.id,
      'dromedary-deliveries',
      String(deliveries),
    ])
    await this.ack([entry.id])
  }
}
