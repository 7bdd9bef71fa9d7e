// outbox-relay-kill-9: an outbox relay is killed with SIGKILL twice while it publishes (some rows published
// and confirmed but not yet marked sent), each time restarted; the third run finishes the table. A
// downstream consumer applies each message through a transactional inbox keyed on the message id. Holds
// when every row's effect is applied exactly once (lost 0, duplicated effects 0); the republished rows are
// reported.
import { App } from '../lib/child.mjs'
import { AMQP_URL, declareQueue, deleteTopology, drainQueue, uniqueName } from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { DATABASE_URL, dropTables, inboxVariant, pgPool, uniqueTable } from '../lib/postgres.mjs'
import { faultRow } from '../lib/report.mjs'
import { join } from 'node:path'
import { RUN_DIR } from '../lib/paths.mjs'
import { countLines, readLines, randomInt, waitFor } from '../lib/util.mjs'
import { processedIds, startWorker, stopWorker, waitAllProcessed } from '../lib/workers.mjs'

const KILLS = 2

async function startRelay(outbox, out, name) {
  const ledger = join(RUN_DIR, `${outbox}.${name}.${Date.now()}`)
  const app = new App(
    'outbox-relay.mjs',
    { url: AMQP_URL, databaseUrl: DATABASE_URL, outbox, out, ledger, name },
    { name },
  )
  await app.next('ready')
  return { app, ledger }
}

async function unsent(outbox) {
  const { rows } = await pgPool().query(`SELECT count(*)::int AS n FROM "${outbox}" WHERE sent_at IS NULL`)
  return rows[0].n
}

export default {
  name: 'outbox-relay-kill-9',
  graceful: false,
  async run({ quick, log }) {
    const trials = quick ? 2 : 4
    const messages = quick ? 2000 : 4000
    const accounts = []
    const problems = []
    let republished = 0
    for (let t = 0; t < trials; t++) {
      const outbox = uniqueTable(`outbox_${t}`)
      const out = uniqueName(`outbox.${t}`)
      const variant = inboxVariant(true)
      const relays = []
      let consumer
      try {
        await declareQueue(out)
        // The first relay creates the table; the rows arrive while it runs, as an application would write them.
        relays.push(await startRelay(outbox, out, 'relay-0'))
        await pgPool().query(
          `INSERT INTO "${outbox}" (message_id, body, body_kind, headers)
           SELECT $1 || g, convert_to(json_build_object('id', $1 || g)::text, 'UTF8'), 'json', '{}'::json
           FROM generate_series(0, $2::int - 1) g`,
          [`o${t}-`, messages],
        )
        const ids = Array.from({ length: messages }, (_, i) => `o${t}-${i}`)
        for (let k = 0; k < KILLS; k++) {
          const relay = relays.at(-1)
          const done = relays.reduce((n, r) => n + countLines(r.ledger), 0)
          const target = done + randomInt(50, Math.floor(messages / (KILLS + 1)))
          await waitFor(() => relays.reduce((n, r) => n + countLines(r.ledger), 0) >= target, {
            timeoutMs: 60_000,
            intervalMs: 2,
          })
          const exit = await relay.app.kill()
          if (exit.signal !== 'SIGKILL') problems.push(`trial ${t}: relay ${k} was not killed`)
          relays.push(await startRelay(outbox, out, `relay-${k + 1}`))
        }
        if (
          !(await waitFor(async () => (await unsent(outbox)) === 0, { timeoutMs: 120_000, intervalMs: 100 }))
        )
          problems.push(`trial ${t}: the last relay did not empty the outbox in 120 s`)
        const last = relays.at(-1)
        last.app.signal('SIGTERM')
        const exit = await last.app.waitExit(60_000)
        if (exit.code !== 0) problems.push(`trial ${t}: last relay stop exited ${exit.code ?? exit.signal}`)
        republished += relays.reduce((n, r) => n + readLines(r.ledger).length, 0) - messages

        // Downstream: an inbox keyed on the message id.
        const extra = await variant.workerParams(t)
        consumer = await startWorker(out, 'downstream', { prefetch: 20, workMs: [0, 1], ...extra })
        if (!(await waitAllProcessed([consumer], messages)))
          problems.push(`trial ${t}: the downstream consumer did not finish in 120 s`)
        const stopped = await stopWorker(consumer)
        if (stopped.exit.code !== 0) problems.push(`trial ${t}: downstream stop exited ${stopped.exit.code}`)
        const remaining = await drainQueue(out)
        const a = account({
          sent: ids,
          processed: await variant.processed([consumer], processedIds),
          remaining,
        })
        accounts.push(a)
        log(
          `  trial ${t + 1}/${trials}: effects ${a.processed}/${a.sent}, lost ${a.lost}, duplicated effects ${a.duplicated}`,
        )
      } finally {
        for (const r of relays) if (r.app.running) await r.app.kill()
        if (consumer?.app.running) await consumer.app.kill()
        await deleteTopology({ queues: [out] })
        await variant.cleanup()
        await dropTables([outbox])
      }
    }
    const s = sumAccounts(accounts)
    return [
      faultRow({
        scenario: 'outbox-relay-kill-9',
        trials,
        s,
        notes: [
          `${trials} × ${messages} outbox rows, ${KILLS} relay SIGKILLs per trial, ${republished} rows republished (same message id)`,
          'effects counted in PostgreSQL behind a downstream inbox: duplicated effects must be 0',
        ],
        problems,
        maxDuplicated: 0,
      }),
    ]
  },
}
