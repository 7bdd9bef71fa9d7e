// amqp-crash-loop: a queue of ordinary messages with one poison message among them that kills the consumer
// process (SIGKILL to itself) every time it runs. The runner restarts the app after every crash, as an
// orchestrator would. With maxRedeliveries=N the poison must end in the dead-letter exchange after at most
// N + 1 runs, the app must then finish the queue, and nothing may be lost. Classic and quorum queues.
// Duplicates are expected (ordinary messages in flight at each crash run again) and reported. An ordinary
// message dead-lettered with the poison (charged deliveries it did not cause) is not lost — it is in the
// dead-letter queue — but it is counted and reported as collateral; on a classic queue there must be none.
import { join } from 'node:path'
import {
  declareDeadLetter,
  deleteTopology,
  drainQueue,
  fillQueue,
  queueState,
  uniqueName,
  withConnection,
} from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { RUN_DIR } from '../lib/paths.mjs'
import { faultRow } from '../lib/report.mjs'
import { makeIds, readLines, waitFor } from '../lib/util.mjs'
import { processedIds, startWorker, stopWorker } from '../lib/workers.mjs'

const MAX_REDELIVERIES = 3
const MAX_LIVES = 12
const PREFETCH = 10
const QUEUE_TYPES = ['classic', 'quorum']

export default {
  name: 'amqp-crash-loop',
  graceful: false,
  async run({ quick, log }) {
    const trials = quick ? 1 : 3
    const messages = quick ? 300 : 1000
    const rows = []
    for (const type of QUEUE_TYPES) {
      const accounts = []
      const problems = []
      const runs = []
      let collateral = 0
      for (let t = 0; t < trials; t++) {
        const r = await trial({ type, t, messages, problems })
        accounts.push(r.account)
        runs.push(r.runs)
        collateral += r.collateral
        if (type === 'classic' && r.collateral > 0)
          problems.push(
            `classic trial ${t}: ${r.collateral} ordinary message(s) dead-lettered with the poison`,
          )
        log(
          `  ${type} trial ${t + 1}/${trials}: poison ran ${r.runs} times (bound ${MAX_REDELIVERIES + 1}), ${r.lives} lives, dead-lettered ${r.deadLettered}; processed ${r.account.processed}/${r.account.sent}, lost ${r.account.lost}, duplicated ${r.account.duplicated}`,
        )
      }
      rows.push(
        faultRow({
          scenario: `amqp-crash-loop/${type}`,
          trials,
          s: sumAccounts(accounts),
          notes: [
            `${trials} × (${messages} msgs + 1 poison that SIGKILLs the app), maxRedeliveries ${MAX_REDELIVERIES}, prefetch ${PREFETCH}`,
            `poison ran ${runs.join(', ')} times (bound ${MAX_REDELIVERIES + 1}) before the DLX`,
            `ordinary messages dead-lettered with it: ${collateral}`,
          ],
          problems,
          requireAllProcessed: type === 'classic',
        }),
      )
    }
    return rows
  },
}

async function trial({ type, t, messages, problems }) {
  const queue = uniqueName(`crash.${type}.${t}`)
  const dlx = `${queue}.dlx`
  const dlq = `${queue}.dlq`
  const crashLedger = join(RUN_DIR, `${queue}.crashes`)
  const ids = makeIds(`c${type[0]}${t}`, messages)
  const poison = `${queue}.poison`
  // The poison sits a little way into the queue, behind ordinary messages.
  const order = [...ids.slice(0, 50), poison, ...ids.slice(50)]
  const workers = []
  let lives = 0
  try {
    await declareDeadLetter(dlx, dlq)
    await withConnection(async (conn) => {
      const ch = await conn.createChannel()
      const args = { 'x-dead-letter-exchange': dlx }
      if (type === 'quorum') args['x-queue-type'] = 'quorum'
      await ch.assertQueue(queue, { durable: true, arguments: args })
      await ch.close()
    })
    await fillQueue(queue, order, (id) => (id === poison ? { crash: true } : {}))
    const params = {
      prefetch: PREFETCH,
      workMs: [0, 3],
      maxRedeliveries: MAX_REDELIVERIES,
      deadLetterExchange: dlx,
      crashLedger,
      // A quorum queue is declared here, with its type; the app only checks that it is there.
      passive: type === 'quorum',
    }
    let done = false
    for (; lives < MAX_LIVES && !done; lives++) {
      const w = await startWorker(queue, `crash-${lives}`, params)
      workers.push(w)
      const finished = waitFor(
        async () =>
          !w.app.running ||
          (new Set(processedIds(workers)).size >= messages && (await queueState(dlq)).messages >= 1),
        { timeoutMs: 120_000, intervalMs: 100 },
      )
      await finished
      if (!w.app.running) continue // crashed: restart
      done = true
      const { exit } = await stopWorker(w)
      if (exit.code !== 0) problems.push(`${type} trial ${t}: last stop exited ${exit.code ?? exit.signal}`)
    }
    if (!done) problems.push(`${type} trial ${t}: not done after ${MAX_LIVES} lives`)
    const runs = readLines(crashLedger).length
    if (runs > MAX_REDELIVERIES + 1)
      problems.push(`${type} trial ${t}: the poison ran ${runs} times, above ${MAX_REDELIVERIES + 1}`)
    const dead = await drainQueue(dlq)
    const deadLettered = dead.filter((id) => id === poison).length
    if (deadLettered !== 1)
      problems.push(`${type} trial ${t}: the poison was dead-lettered ${deadLettered} times`)
    const deadOrdinary = dead.filter((id) => id !== poison)
    const remaining = await drainQueue(queue)
    const processed = processedIds(workers)
    return {
      runs,
      lives,
      deadLettered,
      collateral: new Set(deadOrdinary).size,
      // Kept in the dead-letter queue is not lost.
      account: account({ sent: ids, processed, remaining: [...remaining, ...deadOrdinary] }),
    }
  } finally {
    for (const w of workers) if (w.app.running) await w.app.kill()
    await deleteTopology({ queues: [queue, dlq], exchanges: [dlx] })
  }
}
