// amqp-connection-drop: while a consumer app is busy, the broker closes its connection
// (`rabbitmqctl close_connection`, found by the connection_name the app set), twice per trial. Holds when
// nothing is lost, consumption resumes after each drop (the app reconnects and processes more), and the
// queue is finished by the same app. Duplicates are allowed (exchanges in flight on the dead channel cannot
// be acked; at most prefetch per drop) and reported.
import {
  closeConnectionsNamed,
  connectionPids,
  declareQueue,
  deleteTopology,
  drainQueue,
  fillQueue,
  uniqueName,
} from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { row } from '../lib/report.mjs'
import { makeIds, randomInt, readLines, waitFor } from '../lib/util.mjs'
import { processedCount, processedIds, startWorker, stopWorker, waitAllProcessed } from '../lib/workers.mjs'

const PREFETCH = 20
const DROPS = 2

export default {
  name: 'amqp-connection-drop',
  graceful: false,
  async run({ quick, log }) {
    const trials = quick ? 2 : 4
    const messages = quick ? 3000 : 4000
    const accounts = []
    const problems = []
    let reconnects = 0
    for (let t = 0; t < trials; t++) {
      const queue = uniqueName(`drop.${t}`)
      const connectionName = `${queue}.consumer`
      const ids = makeIds(`d${t}`, messages)
      let w
      try {
        await declareQueue(queue)
        await fillQueue(queue, ids)
        // 5–20 ms per message at prefetch 20: ~1,600 msgs/s, so the drops land mid-stream.
        w = await startWorker(queue, 'drop', { prefetch: PREFETCH, workMs: [5, 20], connectionName })
        for (let d = 0; d < DROPS; d++) {
          const target = processedCount([w]) + randomInt(200, Math.floor(messages / (DROPS + 2)))
          await waitFor(() => processedCount([w]) >= target, { timeoutMs: 60_000, intervalMs: 10 })
          const closed = await closeConnectionsNamed(connectionName)
          if (closed === 0) problems.push(`trial ${t}: no connection named ${connectionName} to close`)
          const before = processedCount([w])
          // Consumption resumes: a new connection under the same name, and more messages processed.
          const back = await waitFor(async () => (await connectionPids(connectionName)).length > 0, {
            timeoutMs: 30_000,
            intervalMs: 200,
          })
          const more = await waitFor(() => processedCount([w]) >= Math.min(before + 100, messages), {
            timeoutMs: 30_000,
          })
          if (!back || !more) problems.push(`trial ${t}: consumption did not resume after drop ${d + 1}`)
        }
        if (!(await waitAllProcessed([w], messages)))
          problems.push(`trial ${t}: the queue was not finished in 120 s`)
        const { exit } = await stopWorker(w)
        if (exit.code !== 0) problems.push(`trial ${t}: stop exited ${exit.code ?? exit.signal}`)
        reconnects += readLines(w.app.logFile).filter((l) =>
          l.includes('AMQP connection re-established'),
        ).length
        const remaining = await drainQueue(queue)
        const a = account({ sent: ids, processed: processedIds([w]), remaining })
        accounts.push(a)
        log(
          `  trial ${t + 1}/${trials}: processed ${a.processed}/${a.sent}, lost ${a.lost}, duplicated ${a.duplicated}`,
        )
      } finally {
        if (w?.app.running) await w.app.kill()
        await deleteTopology({ queues: [queue] })
      }
    }
    const s = sumAccounts(accounts)
    const bound = trials * DROPS * PREFETCH
    if (reconnects < trials * DROPS)
      problems.push(`only ${reconnects} reconnects logged for ${trials * DROPS} drops`)
    const notes = [
      `${trials} × ${messages} msgs, ${DROPS} broker-side connection closes per trial, ${reconnects} reconnects`,
      `duplicates allowed: at most drops × prefetch = ${bound}${s.duplicated > bound ? ' — EXCEEDED' : ''}`,
      ...problems.slice(0, 3),
    ]
    if (s.lostIds.length > 0) notes.push(`lost e.g. ${s.lostIds.join(',')}`)
    return [
      row({
        scenario: 'amqp-connection-drop',
        graceful: false,
        trials,
        sent: s.sent,
        processed: s.processed,
        lost: s.lost,
        duplicated: s.duplicated,
        passed: s.lost === 0 && s.processed === s.sent && s.duplicated <= bound && problems.length === 0,
        notes: notes.join('; '),
      }),
    ]
  },
}

function reconnectsIn(logFile) {
  return readLines(logFile).filter((l) => l.includes('AMQP connection re-established')).length
}
