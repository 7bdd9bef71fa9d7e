/**
 * The only module that imports the `redis` client (node-redis). It owns the component's command connection and
 * the consumers' dedicated blocking connections, and speaks raw RESP2 commands (`sendCommand`): replies are
 * plain arrays the rest of the package parses, and errors are `DromedaryError`s with the client's error as
 * `cause`.
 */
import type { Logger } from '@dromedary/core'
import { createClient } from 'redis'
import { errors } from './errors.js'
import { untilAborted } from '@dromedary/core'

/** A command argument. @internal */
export type RedisArg = string | Buffer

/** One stream entry: its id and its flat `[name, value, name, value, …]` fields. @internal */
export interface StreamEntry {
  readonly id: string
  readonly fields: readonly string[]
}

/** Anything that runs a raw Redis command: a node-redis client (`createClient()`), or the component's connection. */
export interface RedisCommandRunner {
  sendCommand(args: RedisArg[]): Promise<unknown>
}

/** Settings of one connection (already validated). @internal */
export interface RedisConnectionSettings {
  readonly url: string
  readonly name: string
  readonly connectTimeoutMs: number
  readonly reconnectInitialDelayMs: number
  readonly reconnectMaxDelayMs: number
  readonly logger: Logger
  /** Called after every successful reconnect (not the first connect). */
  readonly onReconnect: () => void
}

type Client = ReturnType<typeof createClient>

/**
 * One node-redis client with reconnect (exponential backoff). Commands issued while it is reconnecting wait in
 * its offline queue and run once it is back.
 * @internal
 */
export class RedisConnection implements RedisCommandRunner {
  /** The URL without credentials, for messages and logs. */
  readonly target: string
  readonly #client: Client
  readonly #settings: RedisConnectionSettings
  #lost = false

  private constructor(client: Client, settings: RedisConnectionSettings) {
    this.#client = client
    this.#settings = settings
    this.target = redactUrl(settings.url)
    client.on('error', (err: unknown) => {
      if (this.#lost) return
      this.#lost = true
      settings.logger.warn(
        { err, server: this.target },
        `Redis connection to ${this.target} lost; reconnecting`,
      )
    })
    client.on('ready', () => {
      if (!this.#lost) return
      this.#lost = false
      settings.logger.info({ server: this.target }, `Redis connection to ${this.target} re-established`)
      settings.onReconnect()
    })
  }

  /** Connects; rejects with DROMEDARY_ERR_REDIS_CONNECT (the first connection is not retried). */
  static async open(settings: RedisConnectionSettings): Promise<RedisConnection> {
    const client = newClient(settings, true)
    client.on('error', () => undefined)
    try {
      await client.connect()
    } catch (err) {
      client.destroy()
      throw errors.connect(redactUrl(settings.url), err)
    }
    return new RedisConnection(client, settings)
  }

  get isOpen(): boolean {
    return this.#client.isOpen
  }

  sendCommand(args: RedisArg[]): Promise<unknown> {
    return this.#client.sendCommand(args)
  }

  /** A dedicated connection for one consumer's blocking reads. */
  async openReader(): Promise<RedisReader> {
    const client = newClient(this.#settings, false)
    client.on('error', () => undefined)
    try {
      await client.connect()
    } catch (err) {
      client.destroy()
      throw errors.connect(this.target, err)
    }
    const reader = new RedisReader(client, this)
    await reader.refreshId()
    client.on('ready', () => void reader.refreshId().catch(() => undefined))
    return reader
  }

  /** Closes after the replies of every command sent; destroys the socket at once when `signal` aborts. */
  close(signal: AbortSignal | undefined): Promise<void> {
    return closeClient(this.#client, signal)
  }
}

/**
 * A consumer's own connection for `XREADGROUP … BLOCK`: while it blocks, nothing else can use it, and shutdown
 * ends the wait with `CLIENT UNBLOCK` sent on the command connection (the read then returns what it has, so no
 * entry is read into the pending list and dropped in transit).
 * @internal
 */
export class RedisReader {
  readonly #client: Client
  readonly #commands: RedisConnection
  #id: number | undefined = undefined

  constructor(client: Client, commands: RedisConnection) {
    this.#client = client
    this.#commands = commands
  }

  async refreshId(): Promise<void> {
    this.#id = Number(await this.#client.sendCommand(['CLIENT', 'ID']))
  }

  /**
   * `XREADGROUP GROUP g c COUNT n BLOCK ms STREAMS key >`: new entries, or none after `blockMs`; each entry as
   * `make` builds it (the consumer's own record, so an entry costs one object).
   */
  async readGroup<T>(
    key: string,
    group: string,
    consumer: string,
    count: number,
    blockMs: number,
    make: (id: string, fields: string[]) => T,
  ): Promise<T[]> {
    // Replies as strings: node-redis decodes them far faster than into Buffers (binary bodies travel as base64).
    const reply = await this.#client.sendCommand([
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      String(count),
      'BLOCK',
      String(blockMs),
      'STREAMS',
      key,
      '>',
    ])
    if (reply === null || !Array.isArray(reply) || reply.length === 0) return []
    return parseEntries((reply[0] as [string, unknown[]])[1], make)
  }

  /** Ends a blocked read now (it returns no entries); a no-op when none is blocked. */
  async unblock(): Promise<void> {
    if (this.#id === undefined) return
    await this.#commands.sendCommand(['CLIENT', 'UNBLOCK', String(this.#id)])
  }

  close(signal: AbortSignal | undefined): Promise<void> {
    return closeClient(this.#client, signal)
  }
}

/**
 * Parses `[[id, [f, v, …]], …]` into what `make` builds of each entry (default: a {@link StreamEntry}); a null
 * entry (deleted since) is skipped. @internal
 */
export function parseEntries<T = StreamEntry>(
  raw: readonly unknown[],
  make: (id: string, fields: string[]) => T = streamEntry as (id: string, fields: string[]) => T,
): T[] {
  const out: T[] = []
  for (const item of raw) {
    if (!Array.isArray(item) || item[1] === null || item[1] === undefined) continue
    out.push(make(String(item[0]), item[1] as string[]))
  }
  return out
}

function streamEntry(id: string, fields: string[]): StreamEntry {
  return { id, fields }
}

function newClient(s: RedisConnectionSettings, commands: boolean): Client {
  let connected = false
  const client = createClient({
    url: s.url,
    RESP: 2,
    name: commands ? s.name : `${s.name}:reader`,
    socket: {
      connectTimeout: s.connectTimeoutMs,
      // The first connection fails fast (a wrong URL fails ctx.start()); once connected, reconnect forever.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected
          ? Math.min(s.reconnectMaxDelayMs, s.reconnectInitialDelayMs * 2 ** Math.min(retries, 20))
          : cause,
    },
  })
  client.once('ready', () => (connected = true))
  return client as Client
}

async function closeClient(client: Client, signal: AbortSignal | undefined): Promise<void> {
  if (!client.isOpen) return
  if (signal?.aborted === true) {
    client.destroy()
    return
  }
  const closed = client.close().catch(() => undefined)
  if (!(await untilAborted(closed, signal))) client.destroy()
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`. @internal */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return '(invalid url)'
  }
}
