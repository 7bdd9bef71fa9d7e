// amqp-to-seda-forced: an AMQP → seda bridge whose seda endpoint has waitForTaskToComplete=always (prefetch
// 20, 5 seda consumers, so about 15 messages wait in the seda queue), work of 0.02–1 s per message and 5 %
// stuck for ever (deaf to their abort signal); SIGTERM under load with a 1 s timeout forces the stop, which
// drops the seda queue. Then the app is restarted and finishes the queue. Holds when the stop was forced,
// every message was processed (duplicates allowed and counted) and nothing was lost, and no hand-off
// warning was logged. A control trial with waitForTaskToComplete=never (acknowledged at the seda queue)
// must lose messages, or the scenario did not exercise the queue drop.
import { declareQueue, deleteTopology, drainQueue, fillQueue, uniqueName } from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { faultRow } from '../lib/report.mjs'
import { makeIds, randomInt, sleep, waitFor } from '../lib/util.mjs'
import { processedCount, processedIds, startWorker, stopWorker, waitAllProcessed } from '../lib/workers.mjs'

const FIXTURE = 'amqp-seda-bridge.mjs'
const HAND_OFF_WARNING = /acknowledges its messages when they reach seda:/

export default {
  name: 'amqp-to-seda-forced',
  graceful: false,
  async run({ quick, log }) {
    const trials = quick ? 3 : 5
    const messages = quick ? 200 : 400
    const accounts = []
    const problems = []
    let abortedTotal = 0
    for (let t = 0; t < trials; t++) {
      const r = await trial({ queue: uniqueName(`toseda.${t}`), ids: makeIds(`s${t}`, messages), problems })
      accounts.push(r.account)
      abortedTotal += r.aborted
      log(
        `  trial ${t + 1}/${trials}: processed ${r.account.processed}/${r.account.sent} (${r.beforeStop} before the forced stop), lost ${r.account.lost}, duplicated ${r.account.duplicated}, aborted ${r.aborted}`,
      )
    }
    const control = await controlTrial({ queue: uniqueName('toseda.never'), ids: makeIds('sn', messages) })
    log(
      `  control (waitForTaskToComplete=never): lost ${control.account.lost} of ${control.account.sent}, hand-off warning logged: ${control.warned}`,
    )
    if (control.account.lost === 0)
      problems.push(
        'the control with waitForTaskToComplete=never lost nothing: the queue drop was not exercised',
      )
    if (!control.warned) problems.push('the control logged no hand-off warning at start')
    const s = sumAccounts(accounts)
    return [
      faultRow({
        scenario: 'amqp-to-seda-forced',
        trials,
        s,
        notes: [
          `${trials} × ${messages} msgs of 0.02–1 s (5 % stuck), AMQP prefetch 20 → seda (5 consumers, waitForTaskToComplete=always), timeout 1 s, then restart`,
          `${abortedTotal} exchanges aborted`,
          `control with never: lost ${control.account.lost} of ${control.account.sent}`,
        ],
        problems,
      }),
    ]
  },
}

/** Fills `queue`, forces a stop under load, restarts and finishes; returns the ledger account. */
async function trial({ queue, ids, problems }) {
  const workers = []
  try {
    await declareQueue(queue)
    await fillQueue(queue, ids, () =>
      Math.random() < 0.05 ? { ms: 0, stuck: true } : { ms: randomInt(20, 1000) },
    )
    const first = await startWorker(queue, 'bridge', { fixture: FIXTURE, wait: 'always', timeoutMs: 1000 })
    workers.push(first)
    const started = randomInt(5, 30)
    await waitFor(() => processedCount(workers) >= started, { timeoutMs: 30_000 })
    await sleep(randomInt(0, 500))
    const { stopped, exit } = await stopWorker(first)
    const beforeStop = processedCount(workers)
    if (stopped?.report.forced !== true || exit.code !== 1)
      problems.push(
        `${queue}: expected a forced stop after the 1 s timeout (exit ${exit.code ?? exit.signal})`,
      )
    if (stopped?.warnings.some((w) => HAND_OFF_WARNING.test(w)))
      problems.push(`${queue}: the hand-off warning was logged for waitForTaskToComplete=always`)
    const aborted = stopped?.report.routes.reduce((n, r) => n + (r.aborted ?? 0), 0) ?? 0
    // The restarted app finishes the queue: stuck messages run normally, 20 seda consumers.
    const second = await startWorker(queue, 'restarted', {
      fixture: FIXTURE,
      wait: 'always',
      concurrency: 20,
      honourStuck: false,
    })
    workers.push(second)
    if (!(await waitAllProcessed(workers, ids.length, 120_000)))
      problems.push(`${queue}: the restarted app did not finish the queue within 120 s`)
    const last = await stopWorker(second)
    if (last.exit.code !== 0) problems.push(`${queue}: the restarted app's stop exited ${last.exit.code}`)
    const remaining = await drainQueue(queue)
    return {
      account: account({ sent: ids, processed: processedIds(workers), remaining }),
      beforeStop,
      aborted,
    }
  } finally {
    for (const w of workers) if (w.app.running) await w.app.kill()
    await deleteTopology({ queues: [queue] })
  }
}

/** The same forced stop with waitForTaskToComplete=never, no restart: what is not processed or queued is lost. */
async function controlTrial({ queue, ids }) {
  let worker
  try {
    await declareQueue(queue)
    await fillQueue(queue, ids, () => ({ ms: randomInt(20, 1000) }))
    worker = await startWorker(queue, 'never', { fixture: FIXTURE, wait: 'never', timeoutMs: 1000 })
    const started = randomInt(5, 30)
    await waitFor(() => processedCount([worker]) >= started, { timeoutMs: 30_000 })
    const { stopped } = await stopWorker(worker)
    const remaining = await drainQueue(queue)
    return {
      account: account({ sent: ids, processed: processedIds([worker]), remaining }),
      warned: stopped?.warnings.some((w) => HAND_OFF_WARNING.test(w)) === true,
    }
  } finally {
    if (worker?.app.running) await worker.app.kill()
    await deleteTopology({ queues: [queue] })
  }
}
