// amqp-kill-9: a consumer app is killed with SIGKILL at a random moment while it is busy, twice per trial,
// each time restarted; the third instance finishes the queue. Holds when nothing is lost; duplicates are
// expected (the messages in flight at the kill run again) and reported, with the bound kills × prefetch.
import { declareQueue, deleteTopology, drainQueue, fillQueue, uniqueName } from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { inboxVariant } from '../lib/postgres.mjs'
import { faultRow } from '../lib/report.mjs'
import { makeIds, randomInt, waitFor } from '../lib/util.mjs'
import { processedCount, processedIds, startWorker, stopWorker, waitAllProcessed } from '../lib/workers.mjs'

const PREFETCH = 50
const KILLS = 2

export default amqpKill9(false)

/** The scenario; with `inbox`, the workers apply their effect through the transactional inbox. */
export function amqpKill9(inbox) {
  const name = inbox ? 'amqp-kill-9+inbox' : 'amqp-kill-9'
  return {
    name,
    graceful: false,
    async run({ quick, log }) {
      const variant = inboxVariant(inbox)
      const trials = quick ? 2 : 5
      const messages = quick ? 3000 : 5000
      const accounts = []
      const problems = []
      for (let t = 0; t < trials; t++) {
        const queue = uniqueName(`kill.${t}`)
        const ids = makeIds(`k${t}`, messages)
        const workers = []
        try {
          const extra = await variant.workerParams(t)
          await declareQueue(queue)
          await fillQueue(queue, ids)
          for (let k = 0; k < KILLS; k++) {
            const w = await startWorker(queue, `kill-${k}`, { prefetch: PREFETCH, workMs: [0, 3], ...extra })
            workers.push(w)
            const target = processedCount(workers) + randomInt(100, Math.floor(messages / (KILLS + 1)))
            await waitFor(() => processedCount(workers) >= target, { timeoutMs: 60_000, intervalMs: 5 })
            const exit = await w.app.kill()
            if (exit.signal !== 'SIGKILL') problems.push(`trial ${t}: app ${k} was not killed (${exit.code})`)
          }
          const last = await startWorker(queue, 'kill-last', { prefetch: PREFETCH, workMs: [0, 3], ...extra })
          workers.push(last)
          if (!(await waitAllProcessed(workers, messages)))
            problems.push(`trial ${t}: the restarted app did not finish the queue in 120 s`)
          const { exit } = await stopWorker(last)
          if (exit.code !== 0) problems.push(`trial ${t}: last stop exited ${exit.code ?? exit.signal}`)
          const remaining = await drainQueue(queue)
          const processed = await variant.processed(workers, processedIds)
          const a = account({ sent: ids, processed, remaining })
          accounts.push(a)
          log(
            `  trial ${t + 1}/${trials}: processed ${a.processed}/${a.sent}, lost ${a.lost}, duplicated ${a.duplicated}`,
          )
        } finally {
          await deleteTopology({ queues: [queue] })
          await variant.cleanup()
        }
      }
      const s = sumAccounts(accounts)
      const bound = trials * KILLS * PREFETCH
      return [
        faultRow({
          scenario: name,
          trials,
          s,
          notes: [
            `${trials} × ${messages} msgs, ${KILLS} SIGKILLs per trial, prefetch ${PREFETCH}`,
            inbox
              ? 'effects counted in PostgreSQL: duplicated effects must be 0'
              : `duplicates expected: at most kills × prefetch = ${bound}${s.duplicated > bound ? ' — EXCEEDED' : ''}`,
          ],
          problems,
          maxDuplicated: inbox ? 0 : bound,
        }),
      ]
    },
  }
}
