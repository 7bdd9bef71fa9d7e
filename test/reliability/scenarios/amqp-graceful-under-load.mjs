// amqp-graceful-under-load: a queue of N messages, an app consuming it (prefetch 50, 0–3 ms of async work
// each), SIGTERM at a random moment while it is busy; then a second app consumes the rest, as the next
// instance of a deploy would. Both shutdownRunningTask modes. Holds when nothing is lost and nothing is
// processed twice, and every stop was graceful.
import { App } from '../lib/child.mjs'
import { AMQP_URL, declareQueue, deleteTopology, drainQueue, fillQueue, uniqueName } from '../lib/broker.mjs'
import { account, sumAccounts } from '../lib/ledger.mjs'
import { RUN_DIR } from '../lib/paths.mjs'
import { row } from '../lib/report.mjs'
import { countLines, makeIds, randomInt, readLines, waitFor } from '../lib/util.mjs'
import { join } from 'node:path'

const MODES = ['completeCurrentTaskOnly', 'completeAllTasks']

export default {
  name: 'amqp-graceful-under-load',
  async run({ quick, log }) {
    const trials = quick ? 4 : 20
    const messages = quick ? 2000 : 5000
    const rows = []
    for (const task of MODES) {
      const accounts = []
      const problems = []
      const inflightAtStop = []
      const pendingAtStop = []
      for (let t = 0; t < trials; t++) {
        const a = await trial({ task, messages, t, problems, inflightAtStop, pendingAtStop })
        accounts.push(a)
        log(
          `  ${task} trial ${t + 1}/${trials}: processed ${a.processed}/${a.sent}, lost ${a.lost}, duplicated ${a.duplicated}, stop after ${a.stopAfter} (in flight ${inflightAtStop.at(-1)}, pending ${pendingAtStop.at(-1)})`,
        )
      }
      const s = sumAccounts(accounts)
      const notes = [
        `${task}; ${trials} × ${messages} msgs, SIGTERM after a random 1–${messages - 1} processed`,
        `in flight at stop ${Math.min(...inflightAtStop)}–${Math.max(...inflightAtStop)}, pending ${Math.min(...pendingAtStop)}–${Math.max(...pendingAtStop)}`,
        ...problems.slice(0, 3),
      ]
      if (s.lostIds.length > 0) notes.push(`lost e.g. ${s.lostIds.join(',')}`)
      if (s.duplicatedIds.length > 0) notes.push(`duplicated e.g. ${s.duplicatedIds.join(',')}`)
      rows.push(
        row({
          scenario: `amqp-graceful-under-load/${task}`,
          graceful: true,
          trials,
          sent: s.sent,
          processed: s.processed,
          lost: s.lost,
          duplicated: s.duplicated,
          passed: s.lost === 0 && s.duplicated === 0 && problems.length === 0 && s.processed === s.sent,
          notes: notes.join('; '),
        }),
      )
    }
    return rows
  },
}

async function trial({ task, messages, t, problems, inflightAtStop, pendingAtStop }) {
  const queue = uniqueName(`graceful.${t}`)
  const ids = makeIds(`${task[8]}${t}`, messages)
  const ledgers = [join(RUN_DIR, `${queue}.a`), join(RUN_DIR, `${queue}.b`)]
  const base = { url: AMQP_URL, queue, prefetch: 50, task, workMs: [0, 3] }
  try {
    await declareQueue(queue)
    await fillQueue(queue, ids)
    // First instance: stopped gracefully at a random moment while it is busy.
    const stopAfter = randomInt(1, messages - 1)
    const a = new App(
      'amqp-worker.mjs',
      { ...base, name: 'graceful-a', ledger: ledgers[0] },
      { name: 'graceful-a' },
    )
    await a.next('ready')
    await waitFor(() => countLines(ledgers[0]) >= stopAfter, { timeoutMs: 60_000, intervalMs: 5 })
    a.signal('SIGTERM')
    const stoppedA = await a.next('stopped', 60_000)
    const exitA = await a.exited
    const route = stoppedA.report.routes.find((r) => r.id === 'worker')
    inflightAtStop.push(route?.inflight ?? 0)
    pendingAtStop.push(route?.pending ?? 0)
    if (!stoppedA.report.graceful || exitA.code !== 0)
      problems.push(`trial ${t}: first stop not graceful (exit ${exitA.code ?? exitA.signal})`)

    // Second instance: consumes what the first one handed back or never took.
    const b = new App(
      'amqp-worker.mjs',
      { ...base, name: 'graceful-b', ledger: ledgers[1] },
      { name: 'graceful-b' },
    )
    await b.next('ready')
    const done = await waitFor(
      () => new Set([...readLines(ledgers[0]), ...readLines(ledgers[1])]).size >= messages,
      {
        timeoutMs: 60_000,
        intervalMs: 100,
      },
    )
    if (!done) problems.push(`trial ${t}: the second instance did not finish the queue in 60 s`)
    b.signal('SIGTERM')
    const stoppedB = await b.next('stopped', 60_000)
    const exitB = await b.exited
    if (!stoppedB.report.graceful || exitB.code !== 0)
      problems.push(`trial ${t}: second stop not graceful (exit ${exitB.code ?? exitB.signal})`)

    const remaining = await drainQueue(queue)
    const processed = [...readLines(ledgers[0]), ...readLines(ledgers[1])]
    return { ...account({ sent: ids, processed, remaining }), stopAfter }
  } finally {
    await deleteTopology({ queues: [queue] })
  }
}
