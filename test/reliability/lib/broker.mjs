// The broker side of the AMQP scenarios: amqplib (the build @dromedary/amqp uses), unique queue names,
// filling and draining queues, and rabbitmqctl for the faults.
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { sleep } from './util.mjs'

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
/** What `amqp:queue:NAME` declares by default, so the parent and the apps agree on the queue. */
export const QUEUE_OPTIONS = { durable: true, exclusive: false, autoDelete: false }

let amqplibModule
/** amqplib, resolved from packages/amqp (pnpm does not hoist it to the root). */
export async function amqplib() {
  if (amqplibModule === undefined) {
    const require = createRequire(new URL('../../../packages/amqp/package.json', import.meta.url))
    const mod = await import(pathToFileURL(require.resolve('amqplib')).href)
    amqplibModule = mod.default ?? mod
  }
  return amqplibModule
}

/** A name no other run or helper uses: `dromedary.reliability.<what>.<random>`. */
export function uniqueName(what) {
  return `dromedary.reliability.${what}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
}

/** Opens a connection (retrying for a while: the broker may just be coming back), runs `fn(conn)`, closes. */
export async function withConnection(fn) {
  const amqp = await amqplib()
  let conn
  for (let attempt = 0; ; attempt++) {
    try {
      conn = await amqp.connect(AMQP_URL, {
        clientProperties: { connection_name: 'dromedary-reliability-runner' },
      })
      break
    } catch (err) {
      if (attempt >= 60) throw err
      await sleep(500)
    }
  }
  conn.on('error', () => undefined)
  try {
    return await fn(conn)
  } finally {
    await conn.close().catch(() => undefined)
  }
}

/** Declares `queue` (and an optional dead-letter exchange) and empties it. */
export async function declareQueue(queue, { deadLetterExchange } = {}) {
  await withConnection(async (conn) => {
    const ch = await conn.createChannel()
    const args = deadLetterExchange === undefined ? {} : { 'x-dead-letter-exchange': deadLetterExchange }
    await ch.assertQueue(queue, { ...QUEUE_OPTIONS, arguments: args })
    await ch.purgeQueue(queue)
    await ch.close()
  })
}

/** A fanout dead-letter exchange with one durable queue bound to it. */
export async function declareDeadLetter(exchange, queue) {
  await withConnection(async (conn) => {
    const ch = await conn.createChannel()
    await ch.assertExchange(exchange, 'fanout', { durable: true })
    await ch.assertQueue(queue, QUEUE_OPTIONS)
    await ch.bindQueue(queue, exchange, '')
    await ch.close()
  })
}

/** Deletes queues and exchanges; missing ones are fine. */
export async function deleteTopology({ queues = [], exchanges = [] }) {
  await withConnection(async (conn) => {
    for (const q of queues) {
      const ch = await conn.createChannel()
      ch.on('error', () => undefined)
      await ch.deleteQueue(q).catch(() => undefined)
      await ch.close().catch(() => undefined)
    }
    for (const x of exchanges) {
      const ch = await conn.createChannel()
      ch.on('error', () => undefined)
      await ch.deleteExchange(x).catch(() => undefined)
      await ch.close().catch(() => undefined)
    }
  })
}

/** The JSON body of test message `id`, as the fixtures expect it. */
export function orderMessage(id, extra = {}) {
  return Buffer.from(JSON.stringify({ id, total: 19.9, ...extra }))
}

/**
 * Publishes one persistent JSON message per id (message-id = id) on a confirm channel and waits for every
 * confirm. `bodyOf(id, i)` may add fields to the body.
 */
export async function fillQueue(queue, ids, bodyOf = () => ({})) {
  await withConnection(async (conn) => {
    const ch = await conn.createConfirmChannel()
    for (let i = 0; i < ids.length; i++) {
      const ok = ch.sendToQueue(queue, orderMessage(ids[i], bodyOf(ids[i], i)), {
        persistent: true,
        messageId: ids[i],
        contentType: 'application/json',
      })
      if (!ok) await new Promise((resolve) => ch.once('drain', resolve))
      if (i % 1000 === 999) await ch.waitForConfirms()
    }
    await ch.waitForConfirms()
    await ch.close()
  })
}

/** Ready messages and consumers of `queue` (passive declare). */
export async function queueState(queue) {
  return withConnection(async (conn) => {
    const ch = await conn.createChannel()
    const { messageCount, consumerCount } = await ch.checkQueue(queue)
    await ch.close()
    return { messages: messageCount, consumers: consumerCount }
  })
}

/**
 * Takes every message left in `queue` once no app consumes it (their unacknowledged messages are back in
 * the queue by then) and returns the ids (message-id, else the `x-fuzz-id` header, else the body's `id`).
 */
export async function drainQueue(queue, { waitForNoConsumersMs = 15_000 } = {}) {
  return withConnection(async (conn) => {
    const ch = await conn.createChannel()
    const deadline = Date.now() + waitForNoConsumersMs
    while ((await ch.checkQueue(queue)).consumerCount > 0 && Date.now() < deadline) await sleep(100)
    const ids = []
    for (;;) {
      const msg = await ch.get(queue, { noAck: true })
      if (msg === false) {
        // The broker may still be requeueing a closed channel's messages: look once more after a moment.
        await sleep(300)
        if ((await ch.checkQueue(queue)).messageCount === 0) break
        continue
      }
      ids.push(idOf(msg))
    }
    await ch.close()
    return ids
  })
}

export function idOf(msg) {
  const p = msg.properties
  if (typeof p.messageId === 'string' && p.messageId !== '') return p.messageId
  const h = p.headers?.['x-fuzz-id']
  if (typeof h === 'string') return h
  try {
    return String(JSON.parse(msg.content.toString('utf8')).id)
  } catch {
    return '(unidentified)'
  }
}

// --- rabbitmqctl ------------------------------------------------------------------------------------

export function rabbitmqctl(...args) {
  return new Promise((resolve, reject) => {
    execFile(
      'rabbitmqctl',
      args,
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`rabbitmqctl ${args.join(' ')} failed: ${stderr || err.message}`))
        else resolve(stdout)
      },
    )
  })
}

/** The broker-side pids (`<rabbit@host.….0>`) of the connections whose `connection_name` is `name`. */
export async function connectionPids(name) {
  const out = await rabbitmqctl(
    'list_connections',
    'pid',
    'client_properties',
    '--quiet',
    '--no-table-headers',
  )
  const needle = `{"connection_name",${JSON.stringify(name)}}`
  return out
    .split('\n')
    .filter((line) => line.includes(needle))
    .map((line) => line.split('\t')[0])
}

/** Closes, from the broker side, every connection named `name`; resolves with how many it closed. */
export async function closeConnectionsNamed(name, reason = 'dromedary reliability: connection drop') {
  const pids = await connectionPids(name)
  for (const pid of pids) await rabbitmqctl('close_connection', pid, reason)
  return pids.length
}

/** Stops the RabbitMQ application (the Erlang node stays up). */
export async function stopBroker() {
  await rabbitmqctl('stop_app')
}

/** Starts the RabbitMQ application and waits until it accepts connections again. */
export async function startBroker() {
  await rabbitmqctl('start_app')
  await rabbitmqctl('await_startup')
}

/** Makes sure the broker application is running (after a scenario that stopped it, even one that failed). */
export async function ensureBrokerRunning() {
  const out = await rabbitmqctl('status').catch((err) => String(err))
  if (/rabbit application is not running|is not running/i.test(out) || !/RabbitMQ version/i.test(out)) {
    await startBroker()
    return true
  }
  await rabbitmqctl('await_startup')
  return false
}
