import type { IdempotentRepository, Logger } from '@dromedary/core'
import { RedisConnection, type RedisArg, type RedisCommandRunner } from './redis-connection.js'
import { errors } from './errors.js'

/** Options of `redisIdempotentRepository`: a client of yours, or a URL to connect to. */
export interface RedisIdempotentRepositoryOptions {
  /** A connected node-redis client (`createClient()`); you own it (connect and close it yourself). */
  client?: RedisCommandRunner
  /** Connect a client of the repository's own on first use (closed by `close()`). @default 'redis://127.0.0.1:6379' when no `client` is given */
  url?: string
  /** Prefix of every key, so repositories (and `clear()`) never touch other keys. @default 'dromedary:idem:' */
  keyPrefix?: string
  /** How long a key is remembered, in seconds (`SET … EX`). @default 86400 */
  ttlSeconds?: number
}

/** An `IdempotentRepository` in Redis, plus `close()` for a client it opened itself. */
export interface RedisIdempotentRepository extends IdempotentRepository {
  add(key: string): Promise<boolean>
  contains(key: string): Promise<boolean>
  remove(key: string): Promise<void>
  confirm(key: string): void
  clear(): Promise<void>
  /** Closes the client the repository opened from `url`; a no-op for a client given as `client`. */
  close(): Promise<void>
}

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const MAX_TTL_SECONDS = 2_147_483_647
const GLOB = /[*?[\]\\]/g

/**
 * Remembers processed message keys in Redis for `.idempotentConsumer()` (Camel `RedisIdempotentRepository`):
 * `add` is one atomic `SET key 1 NX EX ttl` (true only for the first caller, across processes), `contains` is
 * `EXISTS`, `remove` is `DEL`, `clear` deletes the prefix's keys (`SCAN` + `UNLINK`). `confirm` has nothing to
 * do: the key is complete once added.
 * @example redisIdempotentRepository({ url: 'redis://127.0.0.1:6379', ttlSeconds: 3600 })
 */
export function redisIdempotentRepository(
  options: RedisIdempotentRepositoryOptions = {},
): RedisIdempotentRepository {
  if (typeof options !== 'object' || options === null) throw errors.invalidConfig('options object required')
  const { client, keyPrefix = 'dromedary:idem:', ttlSeconds = 86_400 } = options
  if (client !== undefined && options.url !== undefined)
    throw errors.invalidConfig('give "client" or "url", not both')
  if (client !== undefined && typeof client.sendCommand !== 'function')
    throw errors.invalidConfig('"client" must be a node-redis client')
  if (typeof keyPrefix !== 'string') throw errors.invalidConfig('"keyPrefix" must be a string')
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS)
    throw errors.invalidConfig(
      `"ttlSeconds" must be an integer from 1 to ${MAX_TTL_SECONDS} (got ${String(ttlSeconds)})`,
    )
  const url = options.url ?? 'redis://127.0.0.1:6379'
  if (client === undefined && !/^rediss?:\/\//.test(url))
    throw errors.invalidConfig('"url" must start with redis:// or rediss://')
  return new Repository(client, url, keyPrefix, String(ttlSeconds))
}

class Repository implements RedisIdempotentRepository {
  readonly #given: RedisCommandRunner | undefined
  readonly #url: string
  readonly #prefix: string
  readonly #ttl: string
  #own: Promise<RedisConnection> | undefined = undefined

  constructor(client: RedisCommandRunner | undefined, url: string, prefix: string, ttl: string) {
    this.#given = client
    this.#url = url
    this.#prefix = prefix
    this.#ttl = ttl
  }

  async add(key: string): Promise<boolean> {
    return (await this.#run('SET NX', ['SET', this.#prefix + key, '1', 'NX', 'EX', this.#ttl])) === 'OK'
  }

  async contains(key: string): Promise<boolean> {
    return Number(await this.#run('EXISTS', ['EXISTS', this.#prefix + key])) === 1
  }

  async remove(key: string): Promise<void> {
    await this.#run('DEL', ['DEL', this.#prefix + key])
  }

  confirm(): void {}

  async clear(): Promise<void> {
    const match = `${this.#prefix.replace(GLOB, '\\$&')}*`
    let cursor = '0'
    do {
      const [next, keys] = (await this.#run('SCAN', ['SCAN', cursor, 'MATCH', match, 'COUNT', '500'])) as [
        string,
        string[],
      ]
      cursor = String(next)
      if (keys.length > 0) await this.#run('UNLINK', ['UNLINK', ...keys])
    } while (cursor !== '0')
  }

  async close(): Promise<void> {
    const own = this.#own
    this.#own = undefined
    if (own !== undefined) await (await own.catch(() => undefined))?.close(AbortSignal.timeout(5000))
  }

  async #run(what: string, args: RedisArg[]): Promise<unknown> {
    try {
      return await (this.#given ?? (await this.#connect())).sendCommand(args)
    } catch (err) {
      throw errors.commandFailed(`${what} (idempotent repository)`, err)
    }
  }

  #connect(): Promise<RedisConnection> {
    this.#own ??= RedisConnection.open({
      url: this.#url,
      name: 'dromedary-idempotent-repository',
      connectTimeoutMs: 5000,
      reconnectInitialDelayMs: 100,
      reconnectMaxDelayMs: 5000,
      logger: SILENT,
      onReconnect: () => undefined,
    })
    const own = this.#own
    // A failed first connect is retried by the next call.
    own.catch(() => {
      if (this.#own === own) this.#own = undefined
    })
    return own
  }
}
