// The graceful-under-load and kill-9 scenarios for the stream brokers (NATS JetStream, Redis Streams), run
// against an adapter from stream-brokers.mjs with the stream-worker.mjs fixture; the same accounting as the
// AMQP scenarios (lib/ledger.mjs).
import { join } from 'node:path'
import { App } from './child.mjs'
import { account, sumAccounts } from './ledger.mjs'
import { RUN_DIR } from './paths.mjs'
import { faultRow, row } from './report.mjs'
import { countLines, makeIds, randomInt, readLines, waitFor } from './util.mjs'

const BATCH = 50

function startApp(broker, name, params) {
  const ledger = join(RUN_DIR, `${broker.stream}.${name}.${Date.now()}`)
  const app = new App(
    'stream-worker.mjs',
    {
      transport: broker.transport,
      server: broker.server,
      stream: broker.stream,
      batch: BATCH,
      workMs: [0, 3],
      name,
      ledger,
      ...broker.params,
      ...params,
    },
    { name: `${broker.transport}-${name}` },
  )
  return { app, ledger, ready: app.next('ready') }
}

/**
 * SIGTERM at a random moment while the first app is busy; a second app consumes the rest. Both
 * shutdownRunningTask modes. Holds when nothing is lost, nothing is processed twice and every stop was graceful.
 */
export async function gracefulUnderLoad({ scenario, makeBroker, quick, log }) {
  const trials = quick ? 4 : 12
  const messages = quick ? 2000 : 5000
  const rows = []
  for (const task of ['completeCurrentTaskOnly', 'completeAllTasks']) {
    const accounts = []
    const problems = []
    const inflight = []
    for (let t = 0; t < trials; t++) {
      const broker = await makeBroker(`graceful${t}`)
      const ids = makeIds(`${task[8]}${t}`, messages)
      try {
        await broker.create()
        await broker.fill(ids)
        const stopAfter = randomInt(1, messages - 1)
        const a = startApp(broker, 'graceful-a', { task })
        await a.ready
        await waitFor(() => countLines(a.ledger) >= stopAfter, { timeoutMs: 60_000, intervalMs: 5 })
        a.app.signal('SIGTERM')
        const stoppedA = await a.app.next('stopped', 60_000)
        const exitA = await a.app.exited
        inflight.push(stoppedA.report.routes[0]?.inflight ?? 0)
        if (!stoppedA.report.graceful || exitA.code !== 0)
          problems.push(`trial ${t}: first stop not graceful (exit ${exitA.code ?? exitA.signal})`)
        const b = startApp(broker, 'graceful-b', { task })
        await b.ready
        const all = () => new Set([...readLines(a.ledger), ...readLines(b.ledger)]).size >= messages
        if (!(await waitFor(all, { timeoutMs: 60_000, intervalMs: 100 })))
          problems.push(`trial ${t}: the second instance did not finish the stream in 60 s`)
        b.app.signal('SIGTERM')
        const stoppedB = await b.app.next('stopped', 60_000)
        const exitB = await b.app.exited
        if (!stoppedB.report.graceful || exitB.code !== 0)
          problems.push(`trial ${t}: second stop not graceful (exit ${exitB.code ?? exitB.signal})`)
        const processed = [...readLines(a.ledger), ...readLines(b.ledger)]
        const acc = account({ sent: ids, processed, remaining: await broker.leftover() })
        accounts.push(acc)
        log(
          `  ${task} trial ${t + 1}/${trials}: processed ${acc.processed}/${acc.sent}, lost ${acc.lost}, duplicated ${acc.duplicated}, stop after ${stopAfter} (in flight ${inflight.at(-1)})`,
        )
      } finally {
        await broker.remove()
      }
    }
    const s = sumAccounts(accounts)
    const notes = [
      `${task}; ${trials} × ${messages} msgs, batch ${BATCH}, SIGTERM after a random 1–${messages - 1} processed`,
      `in flight at stop ${Math.min(...inflight)}–${Math.max(...inflight)}`,
      ...problems.slice(0, 3),
    ]
    if (s.lostIds.length > 0) notes.push(`lost e.g. ${s.lostIds.join(',')}`)
    if (s.duplicatedIds.length > 0) notes.push(`duplicated e.g. ${s.duplicatedIds.join(',')}`)
    rows.push(
      row({
        scenario: `${scenario}/${task}`,
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
}

/**
 * SIGKILL of a busy app at a random moment, twice per trial, each time restarted; the third app finishes the
 * stream (what the killed apps held comes back after ack_wait / minIdleMs). Holds when nothing is lost;
 * duplicates are expected (what was in flight at a kill) and bounded by kills × batch.
 */
export async function kill9({ scenario, makeBroker, quick, log }) {
  const trials = quick ? 2 : 5
  const messages = quick ? 3000 : 5000
  const kills = 2
  const accounts = []
  const problems = []
  for (let t = 0; t < trials; t++) {
    const broker = await makeBroker(`kill${t}`)
    const ids = makeIds(`k${t}`, messages)
    const ledgers = []
    const count = () => ledgers.reduce((n, l) => n + countLines(l), 0)
    try {
      await broker.create()
      await broker.fill(ids)
      for (let k = 0; k < kills; k++) {
        const w = startApp(broker, `kill-${k}`)
        ledgers.push(w.ledger)
        await w.ready
        const target = count() + randomInt(100, Math.floor(messages / (kills + 1)))
        await waitFor(() => count() >= target, { timeoutMs: 60_000, intervalMs: 5 })
        const exit = await w.app.kill()
        if (exit.signal !== 'SIGKILL') problems.push(`trial ${t}: app ${k} was not killed (${exit.code})`)
      }
      const last = startApp(broker, 'kill-last')
      ledgers.push(last.ledger)
      await last.ready
      const all = () => new Set(ledgers.flatMap(readLines)).size >= messages
      if (!(await waitFor(all, { timeoutMs: 120_000, intervalMs: 100 })))
        problems.push(`trial ${t}: the restarted app did not finish the stream in 120 s`)
      last.app.signal('SIGTERM')
      await last.app.next('stopped', 60_000).catch(() => undefined)
      const exit = await last.app.waitExit(60_000)
      if (exit.code !== 0) problems.push(`trial ${t}: last stop exited ${exit.code ?? exit.signal}`)
      const acc = account({
        sent: ids,
        processed: ledgers.flatMap(readLines),
        remaining: await broker.leftover(),
      })
      accounts.push(acc)
      log(
        `  trial ${t + 1}/${trials}: processed ${acc.processed}/${acc.sent}, lost ${acc.lost}, duplicated ${acc.duplicated}`,
      )
    } finally {
      await broker.remove()
    }
  }
  const s = sumAccounts(accounts)
  const bound = trials * kills * BATCH
  return [
    faultRow({
      scenario,
      trials,
      s,
      notes: [
        `${trials} × ${messages} msgs, ${kills} SIGKILLs per trial, batch ${BATCH}`,
        `duplicates expected: at most kills × batch = ${bound}${s.duplicated > bound ? ' — EXCEEDED' : ''}`,
      ],
      problems,
      maxDuplicated: bound,
    }),
  ]
}
