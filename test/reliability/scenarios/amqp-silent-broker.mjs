// amqp-silent-broker: a consumer app connects through a proxy the runner owns; mid-load the proxy stops
// forwarding in both directions and keeps both sockets open (a frozen broker), then the app gets SIGTERM.
// Holds when the app exits within timeoutMs + nowBudgetMs + 1 s (shutdown timeout 2 s, NOW budget 5 s) and
// nothing is lost: what it processed but could not ack is back in the queue once its socket is gone.
// Duplicates are expected (processed, ack never arrived) and reported. Heartbeats default, then off.
import { declareQueue, deleteTopology, drainQueue, fillQueue, uniqueName } from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { startProxy } from '../lib/proxy.mjs'
import { faultRow } from '../lib/report.mjs'
import { makeIds, randomInt, sleep, waitFor } from '../lib/util.mjs'
import { processedCount, processedIds, startWorker, stopWorker } from '../lib/workers.mjs'

const TIMEOUT_MS = 2000
const NOW_BUDGET_MS = 5000
const BOUND_MS = TIMEOUT_MS + NOW_BUDGET_MS + 1000
const PREFETCH = 20

export default {
  name: 'amqp-silent-broker',
  graceful: false,
  async run({ quick, log }) {
    const trials = quick ? 2 : 4
    const messages = quick ? 2000 : 4000
    const accounts = []
    const problems = []
    const exits = []
    for (let t = 0; t < trials; t++) {
      const heartbeatSeconds = t % 2 === 0 ? undefined : 0
      const queue = uniqueName(`silent.${t}`)
      const ids = makeIds(`s${t}`, messages)
      const proxy = await startProxy()
      let w
      try {
        await declareQueue(queue)
        await fillQueue(queue, ids)
        w = await startWorker(queue, 'silent', {
          url: proxy.url,
          prefetch: PREFETCH,
          workMs: [2, 10],
          timeoutMs: TIMEOUT_MS,
          heartbeatSeconds,
        })
        const target = randomInt(100, Math.floor(messages / 2))
        await waitFor(() => processedCount([w]) >= target, { timeoutMs: 60_000, intervalMs: 10 })
        proxy.silence()
        // Mid-load: the app goes on with what it holds; its acks now go nowhere.
        await sleep(randomInt(50, 500))
        const t0 = performance.now()
        const { exit } = await stopWorker(w, BOUND_MS + 10_000)
        const ms = Math.round(performance.now() - t0)
        exits.push(ms)
        if (exit.signal === 'SIGKILL') problems.push(`trial ${t}: the app did not exit; killed`)
        else if (ms > BOUND_MS) problems.push(`trial ${t}: exit after ${ms} ms, above ${BOUND_MS} ms`)
        await proxy.close()
        const remaining = await drainQueue(queue)
        const a = account({ sent: ids, processed: processedIds([w]), remaining })
        accounts.push(a)
        log(
          `  trial ${t + 1}/${trials} (heartbeat ${heartbeatSeconds ?? 'default'}): exit ${exit.code ?? exit.signal} after ${ms} ms, processed ${a.processed}/${a.sent}, back in queue ${a.remaining}, lost ${a.lost}, duplicated ${a.duplicated}`,
        )
      } finally {
        if (w?.app.running) await w.app.kill()
        await proxy.close()
        await deleteTopology({ queues: [queue] })
      }
    }
    const s = sumAccounts(accounts)
    return [
      faultRow({
        scenario: 'amqp-silent-broker',
        trials,
        s,
        notes: [
          `${trials} × ${messages} msgs, proxy silenced mid-load then SIGTERM (timeout ${TIMEOUT_MS} ms, heartbeat default/off)`,
          `exits after ${exits.join(', ')} ms (bound ${BOUND_MS} ms)`,
          `duplicates expected (processed, ack lost): ${s.duplicated}`,
        ],
        problems,
        requireAllProcessed: false,
      }),
    ]
  },
}
