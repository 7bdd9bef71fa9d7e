/**
 * The AMQP quick starts of docs/amqp.md and the package README, run as written on a freshly created vhost:
 * they must work on an empty broker and leave exactly what they declare behind.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { promisify } from 'node:util'
import type { IntegrationContext } from '@dromedary/core'
import { connect } from 'amqplib'
import { afterEach, describe, expect, it } from 'vitest'
import { BROKER_URL, connectBroker } from './support/broker.js'

const run = promisify(execFile)
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', args).then((r) => r.stdout)

const SNIPPETS = new URL('./.snippets/', import.meta.url)
const SOURCES = [
  ['docs/amqp.md', new URL('../../../docs/amqp.md', import.meta.url)],
  ['packages/amqp/README.md', new URL('../README.md', import.meta.url)],
] as const

/** The first TypeScript block of a markdown file: the quick start. */
function quickStart(markdown: string): string {
  const block = /```ts\n([\s\S]*?)```/.exec(markdown)?.[1]
  if (block === undefined) throw new Error('no ```ts block')
  return block
}

/** A vhost of its own, with guest's permissions; deleted after the test. */
async function freshVhost(): Promise<{ name: string; url: string }> {
  const name = `dromedary-test-quickstart-${randomBytes(4).toString('hex')}`
  await rabbitmqctl('add_vhost', name)
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*')
  const url = new URL(BROKER_URL)
  url.pathname = `/${encodeURIComponent(name)}`
  return { name, url: url.href }
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function names(kind: 'list_queues' | 'list_exchanges', vhost: string): Promise<string[]> {
  const out = await rabbitmqctl(kind, '-p', vhost, '--quiet', '--no-table-headers', 'name')
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('amq.'))
    .sort()
}

describe.each(SOURCES)('the AMQP quick start of %s', (_, file) => {
  it('runs on a fresh vhost, routes and dead-letters as described, and leaves only what it declares', async () => {
    // Fails (never skips) with the reason when the broker is not there.
    await (await connectBroker()).close()
    const source = quickStart(readFileSync(file, 'utf8'))
    expect(source.match(/await ctx\.run\(\)/g)).toHaveLength(1)
    const vhost = await freshVhost()
    cleanups.push(async () => void (await rabbitmqctl('delete_vhost', vhost.name)))

    // Run the snippet as a module: the same text, silent, with the context exported instead of run.
    expect(source).toContain("createContext({ name: 'orders' })")
    mkdirSync(SNIPPETS, { recursive: true })
    const module = new URL(`quickstart-${randomBytes(4).toString('hex')}.ts`, SNIPPETS)
    writeFileSync(
      module,
      source
        .replace('await ctx.run()', 'export default ctx')
        .replace("createContext({ name: 'orders' })", "createContext({ name: 'orders', logger: false })"),
    )
    cleanups.push(async () => rmSync(module))
    process.env.AMQP_URL = vhost.url
    cleanups.push(async () => void delete process.env.AMQP_URL)
    const ctx = ((await import(module.href)) as { default: IntegrationContext }).default
    await ctx.start()

    const oracle = await connect(vhost.url)
    cleanups.push(() => oracle.close())
    const ch = await oracle.createConfirmChannel()
    const { queue: probe } = await ch.assertQueue('', { exclusive: true })
    await ch.bindQueue(probe, 'events', 'order.created')
    const json = (body: unknown) => Buffer.from(JSON.stringify(body))
    ch.sendToQueue('orders', json({ id: 'o-1', total: 12.5 }), { contentType: 'application/json' })
    ch.sendToQueue('orders', json({ id: 'o-2' }), { contentType: 'application/json', messageId: 'o-2' })
    await ch.waitForConfirms()

    const created = await ch.get(probe, { noAck: true }).then(async function poll(m): Promise<unknown> {
      return m === false ? ch.get(probe, { noAck: true }).then(poll) : JSON.parse(m.content.toString())
    })
    expect(created).toEqual({ id: 'o-1', total: 12.5 })
    const dead = await new Promise<string>((resolve) => {
      void ch.consume('orders.dead', (m) => m !== null && resolve(String(m.properties.messageId)), {
        noAck: true,
      })
    })
    expect(dead).toBe('o-2')
    const report = await ctx.stop()
    await ch.deleteQueue(probe)
    await ch.close()

    expect(report.graceful).toBe(true)
    const [queues, exchanges] = await Promise.all([
      names('list_queues', vhost.name),
      names('list_exchanges', vhost.name),
    ])
    expect(queues).toEqual(['orders', 'orders.dead'])
    expect(exchanges).toEqual(['events', 'orders.dlx'])
  }, 60_000)
})
