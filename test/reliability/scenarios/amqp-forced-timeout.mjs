// amqp-forced-timeout: slow exchanges (0.02–4 s each, 5 % stuck for ever and deaf to their abort signal),
// prefetch 20, a shutdown timeout of 1 s: SIGTERM while they run forces the stop. Holds when every message
// is either processed or back in the queue (lost 0), and the stop was reported forced (exit code 1).
import { declareQueue, deleteTopology, drainQueue, fillQueue, uniqueName } from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { faultRow } from '../lib/report.mjs'
import { makeIds, randomInt, sleep, waitFor } from '../lib/util.mjs'
import { processedCount, processedIds, startWorker, stopWorker } from '../lib/workers.mjs'

export default {
  name: 'amqp-forced-timeout',
  graceful: false,
  async run({ quick, log }) {
    const trials = quick ? 3 : 5
    const messages = quick ? 200 : 400
    const accounts = []
    const problems = []
    let abortedTotal = 0
    for (let t = 0; t < trials; t++) {
      const queue = uniqueName(`forced.${t}`)
      const ids = makeIds(`f${t}`, messages)
      try {
        await declareQueue(queue)
        await fillQueue(queue, ids, () =>
          Math.random() < 0.05 ? { ms: 0, stuck: true } : { ms: randomInt(20, 4000) },
        )
        const w = await startWorker(queue, 'forced', { prefetch: 20, timeoutMs: 1000 })
        await waitFor(() => processedCount([w]) >= randomInt(5, 30), { timeoutMs: 30_000 })
        await sleep(randomInt(0, 500))
        const { stopped, exit } = await stopWorker(w)
        const route = stopped?.report.routes.find((r) => r.id === 'worker')
        abortedTotal += route?.aborted ?? 0
        if (stopped?.report.forced !== true || stopped.report.timedOut !== true || exit.code !== 1)
          problems.push(
            `trial ${t}: expected a forced stop after the 1 s timeout (exit ${exit.code ?? exit.signal})`,
          )
        const remaining = await drainQueue(queue)
        const a = account({ sent: ids, processed: processedIds([w]), remaining })
        accounts.push(a)
        log(
          `  trial ${t + 1}/${trials}: processed ${a.processed}, back in queue ${a.remaining}, lost ${a.lost}, duplicated ${a.duplicated}, in flight at stop ${route?.inflight}, aborted ${route?.aborted}`,
        )
      } finally {
        await deleteTopology({ queues: [queue] })
      }
    }
    const s = sumAccounts(accounts)
    return [
      faultRow({
        scenario: 'amqp-forced-timeout',
        trials,
        s,
        notes: [
          `${trials} × ${messages} msgs of 0.02–4 s (5 % stuck), prefetch 20, timeout 1 s`,
          `${s.remaining} requeued, ${abortedTotal} exchanges aborted`,
        ],
        problems,
        requireAllProcessed: false,
      }),
    ]
  },
}
