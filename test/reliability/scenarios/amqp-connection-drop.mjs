// amqp-connection-drop: while a consumer app is busy, the broker closes its connection
// (`rabbitmqctl close_connection`, found by the connection_name the app set), twice per trial. Holds when
// nothing is lost, consumption resumes after each drop (the app reconnects and processes more), and the
// same app finishes the queue. Duplicates are allowed (exchanges in flight on the dead channel finish but
// cannot be acked, so the broker delivers them again: at most prefetch per drop) and reported.
import {
  closeConnectionsNamed,
  declareQueue,
  deleteTopology,
  drainQueue,
  fillQueue,
  uniqueName,
} from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { inboxVariant } from '../lib/postgres.mjs'
import { faultRow } from '../lib/report.mjs'
import { makeIds, randomInt, readLines, waitFor } from '../lib/util.mjs'
import { processedCount, processedIds, startWorker, stopWorker, waitAllProcessed } from '../lib/workers.mjs'

const PREFETCH = 20
const DROPS = 2

export default amqpConnectionDrop(false)

/** The scenario; with `inbox`, the worker applies its effect through the transactional inbox. */
export function amqpConnectionDrop(inbox) {
  const name = inbox ? 'amqp-connection-drop+inbox' : 'amqp-connection-drop'
  return {
    name,
    graceful: false,
    async run({ quick, log }) {
      const variant = inboxVariant(inbox)
      const trials = quick ? 2 : 4
      const messages = quick ? 4000 : 5000
      const accounts = []
      const problems = []
      let reconnects = 0
      let maxInflight = 0
      for (let t = 0; t < trials; t++) {
        const queue = uniqueName(`drop.${t}`)
        const connectionName = `${queue}.consumer`
        const ids = makeIds(`d${t}`, messages)
        let w
        try {
          const extra = await variant.workerParams(t)
          await declareQueue(queue)
          await fillQueue(queue, ids)
          // 30–70 ms per message at prefetch 20: ~400 msgs/s, so the drops (rabbitmqctl takes ~3 s to list and
          // close) land mid-stream, at about 5–15 % and 35–45 % of the queue.
          w = await startWorker(queue, 'drop', {
            prefetch: PREFETCH,
            workMs: [30, 70],
            connectionName,
            ...extra,
          })
          for (let d = 0; d < DROPS; d++) {
            const target = Math.floor(messages * (0.05 + d * 0.3 + Math.random() * 0.1))
            await waitFor(() => processedCount([w]) >= target, { timeoutMs: 60_000, intervalMs: 10 })
            const closed = await closeConnectionsNamed(connectionName)
            if (closed === 0) problems.push(`trial ${t}: no connection named ${connectionName} to close`)
            const before = processedCount([w])
            if (before >= messages) problems.push(`trial ${t}: drop ${d + 1} came after the queue was done`)
            // Consumption resumes: the app reconnects, and more messages are processed.
            const back = await waitFor(() => reconnectsIn(w.app.logFile) >= d + 1, { timeoutMs: 30_000 })
            const more = await waitFor(() => processedCount([w]) >= Math.min(before + 100, messages), {
              timeoutMs: 30_000,
            })
            if (!back || !more) problems.push(`trial ${t}: consumption did not resume after drop ${d + 1}`)
          }
          if (!(await waitAllProcessed([w], messages)))
            problems.push(`trial ${t}: the queue was not finished in 120 s`)
          const { stopped, exit } = await stopWorker(w)
          if (exit.code !== 0) problems.push(`trial ${t}: stop exited ${exit.code ?? exit.signal}`)
          maxInflight = Math.max(maxInflight, stopped?.maxInflight ?? 0)
          reconnects += reconnectsIn(w.app.logFile)
          const remaining = await drainQueue(queue)
          const processed = await variant.processed([w], processedIds)
          const a = account({ sent: ids, processed, remaining })
          accounts.push(a)
          log(
            `  trial ${t + 1}/${trials}: processed ${a.processed}/${a.sent}, lost ${a.lost}, duplicated ${a.duplicated}`,
          )
        } finally {
          if (w?.app.running) await w.app.kill()
          await deleteTopology({ queues: [queue] })
          await variant.cleanup()
        }
      }
      const s = sumAccounts(accounts)
      const bound = trials * DROPS * PREFETCH
      if (reconnects < trials * DROPS)
        problems.push(`only ${reconnects} reconnects logged for ${trials * DROPS} drops`)
      if (maxInflight > PREFETCH)
        problems.push(`${maxInflight} exchanges in flight at once, above prefetch ${PREFETCH}`)
      return [
        faultRow({
          scenario: name,
          trials,
          s,
          notes: [
            `${trials} × ${messages} msgs, ${DROPS} broker-side connection closes per trial, ${reconnects} reconnects`,
            inbox
              ? 'effects counted in PostgreSQL: duplicated effects must be 0'
              : `duplicates allowed: at most drops × prefetch = ${bound}${s.duplicated > bound ? ' — EXCEEDED' : ''}`,
          ],
          problems,
          maxDuplicated: inbox ? 0 : bound,
        }),
      ]
    },
  }
}

function reconnectsIn(logFile) {
  return readLines(logFile).filter((l) => l.includes('AMQP connection re-established')).length
}
