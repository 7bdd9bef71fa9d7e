// amqp-broker-restart: while a consumer app is busy on a durable queue of persistent messages, the broker
// application is stopped (`rabbitmqctl stop_app`), left down for 2 s, and started again (`start_app`,
// `await_startup`). Holds when nothing is lost and the same app, reconnecting on its own, finishes the
// queue. Duplicates are allowed (the exchanges in flight when the broker went away) and reported.
import {
  declareQueue,
  deleteTopology,
  drainQueue,
  fillQueue,
  startBroker,
  stopBroker,
  uniqueName,
} from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { inboxVariant } from '../lib/postgres.mjs'
import { faultRow } from '../lib/report.mjs'
import { makeIds, readLines, sleep, waitFor } from '../lib/util.mjs'
import { processedCount, processedIds, startWorker, stopWorker, waitAllProcessed } from '../lib/workers.mjs'

const PREFETCH = 20

export default amqpBrokerRestart(false)

/** The scenario; with `inbox`, the worker applies its effect through the transactional inbox. */
export function amqpBrokerRestart(inbox) {
  const name = inbox ? 'amqp-broker-restart+inbox' : 'amqp-broker-restart'
  return {
    name,
    graceful: false,
    async run({ quick, log }) {
      const variant = inboxVariant(inbox)
      const trials = quick ? 1 : 2
      const messages = quick ? 4000 : 5000
      const accounts = []
      const problems = []
      const downtimes = []
      for (let t = 0; t < trials; t++) {
        const queue = uniqueName(`restart.${t}`)
        const ids = makeIds(`r${t}`, messages)
        let w
        try {
          const extra = await variant.workerParams(t)
          await declareQueue(queue)
          await fillQueue(queue, ids)
          w = await startWorker(queue, 'restart', { prefetch: PREFETCH, workMs: [40, 80], ...extra })
          await waitFor(() => processedCount([w]) >= Math.floor(messages * (0.05 + Math.random() * 0.1)), {
            timeoutMs: 60_000,
            intervalMs: 10,
          })
          const down = Date.now()
          try {
            await stopBroker()
            const atStop = processedCount([w])
            if (atStop >= messages) problems.push(`trial ${t}: the broker stopped after the queue was done`)
            await sleep(2000)
          } finally {
            await startBroker()
          }
          downtimes.push(((Date.now() - down) / 1000).toFixed(1))
          const before = processedCount([w])
          const back = await waitFor(() => reconnectsIn(w.app.logFile) >= 1, { timeoutMs: 60_000 })
          const more = await waitFor(() => processedCount([w]) >= Math.min(before + 100, messages), {
            timeoutMs: 60_000,
          })
          if (!back || !more) problems.push(`trial ${t}: consumption did not resume after the restart`)
          if (!(await waitAllProcessed([w], messages)))
            problems.push(`trial ${t}: the queue was not finished in 120 s`)
          const { exit } = await stopWorker(w)
          if (exit.code !== 0) problems.push(`trial ${t}: stop exited ${exit.code ?? exit.signal}`)
          const remaining = await drainQueue(queue)
          const processed = await variant.processed([w], processedIds)
          const a = account({ sent: ids, processed, remaining })
          accounts.push(a)
          log(
            `  trial ${t + 1}/${trials}: processed ${a.processed}/${a.sent}, lost ${a.lost}, duplicated ${a.duplicated}, broker down ${downtimes.at(-1)} s`,
          )
        } finally {
          if (w?.app.running) await w.app.kill()
          await deleteTopology({ queues: [queue] })
          await variant.cleanup()
        }
      }
      const s = sumAccounts(accounts)
      return [
        faultRow({
          scenario: name,
          trials,
          s,
          notes: [
            `${trials} × ${messages} persistent msgs on a durable queue, broker app down ${downtimes.join(', ')} s`,
            inbox
              ? 'effects counted in PostgreSQL: duplicated effects must be 0'
              : `duplicates allowed (in flight at the stop, ≤ prefetch ${PREFETCH} per restart)`,
          ],
          problems,
          maxDuplicated: inbox ? 0 : trials * PREFETCH,
        }),
      ]
    },
  }
}

function reconnectsIn(logFile) {
  return readLines(logFile).filter((l) => l.includes('AMQP connection re-established')).length
}
