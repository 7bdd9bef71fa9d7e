// The broker side of the NATS JetStream and Redis Streams scenarios: the same clients @dromedary/nats and
// @dromedary/redis use (resolved from those packages), unique names, filling a stream with ids and taking
// back whatever is left at the end. Each adapter: { transport, server, params, create(), fill(ids), leftover(),
// remove() }.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

export const NATS_SERVER = process.env.NATS_SERVER ?? '127.0.0.1:4222'
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function importFrom(pkg, name) {
  const require = createRequire(new URL(`../../../packages/${pkg}/package.json`, import.meta.url))
  return import(pathToFileURL(require.resolve(name)).href)
}

const unique = (what) =>
  `dromedary_reliability_${what}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const body = (id) => JSON.stringify({ id, total: 19.9 })

/** A JetStream stream `<name>` capturing `<name>.>` with the durable consumer `worker` the apps share. */
export async function natsStream(what, { ackWaitMs = 30_000 } = {}) {
  const { connect } = await importFrom('nats', '@nats-io/transport-node')
  const { jetstream, jetstreamManager, AckPolicy } = await importFrom('nats', '@nats-io/jetstream')
  const nc = await connect({ servers: NATS_SERVER, name: 'dromedary-reliability-runner' })
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const name = unique(what)
  return {
    transport: 'nats',
    server: NATS_SERVER,
    stream: name,
    params: { ackWaitMs },
    async create() {
      await jsm.streams.add({ name, subjects: [`${name}.>`] })
      await jsm.consumers.add(name, {
        durable_name: 'worker',
        ack_policy: AckPolicy.Explicit,
        ack_wait: ackWaitMs * 1e6,
        max_deliver: -1,
      })
    },
    async fill(ids) {
      for (let i = 0; i < ids.length; i += 500)
        await Promise.all(ids.slice(i, i + 500).map((id) => js.publish(`${name}.in`, body(id))))
    },
    /** Ids the consumer would still deliver (never delivered, or unacknowledged and due again). */
    async leftover() {
      const c = await js.consumers.get(name, 'worker')
      const ids = []
      for (;;) {
        const info = await jsm.consumers.info(name, 'worker')
        if (info.num_pending + info.num_ack_pending === 0) return ids
        const it = await c.fetch({ max_messages: 500, expires: Math.min(ackWaitMs + 2000, 60_000) })
        let n = 0
        for await (const m of it) {
          n++
          ids.push(m.json().id)
          m.ack()
        }
        if (n === 0 && info.num_pending === 0) return ids
      }
    },
    async remove() {
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.drain()
    },
  }
}

/** A Redis stream with the consumer group `workers` the apps share. */
export async function redisStream(what, { minIdleMs = 60_000 } = {}) {
  const { createClient } = await importFrom('redis', 'redis')
  const client = createClient({ url: REDIS_URL, RESP: 2 })
  client.on('error', () => undefined)
  await client.connect()
  const name = unique(what)
  return {
    transport: 'redis',
    server: REDIS_URL,
    stream: name,
    params: { minIdleMs },
    async create() {
      await client.sendCommand(['XGROUP', 'CREATE', name, 'workers', '0', 'MKSTREAM'])
    },
    async fill(ids) {
      for (let i = 0; i < ids.length; i += 500)
        await Promise.all(
          ids
            .slice(i, i + 500)
            .map((id) =>
              client.sendCommand(['XADD', name, '*', 'body', body(id), 'content-type', 'application/json']),
            ),
        )
    },
    /** Ids never delivered to the group, plus those still pending (unacknowledged). */
    async leftover() {
      // What no consumer has read yet moves to the pending list (as consumer "runner"); then every pending id.
      await client.sendCommand(['XREADGROUP', 'GROUP', 'workers', 'runner', 'STREAMS', name, '>'])
      const rows = await client.sendCommand(['XPENDING', name, 'workers', '-', '+', '1000000'])
      const pending = new Set(rows.map((row) => row[0]))
      const ids = []
      for (const [id, flat] of await client.sendCommand(['XRANGE', name, '-', '+']))
        if (pending.has(id)) ids.push(JSON.parse(flat[flat.indexOf('body') + 1]).id)
      return ids
    },
    async remove() {
      await client.sendCommand(['DEL', name]).catch(() => undefined)
      await client.close()
    },
  }
}
