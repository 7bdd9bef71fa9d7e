// soak: an app under steady load (seda, and AMQP through a publishing route) with a controller that
// suspends/resumes and stops/starts each route in turn the whole time. Holds when the heap after GC grows
// less than 10 % between the end of the warm-up and the end of the run (both measured with the load paused
// and everything processed), the active handles (timers, sockets) are the same at both points and none is
// left after ctx.stop() but the runner's IPC pipe, and every message sent is processed exactly once.
import { join } from 'node:path'
import { App } from '../lib/child.mjs'
import { AMQP_URL, declareQueue, deleteTopology, drainQueue, uniqueName } from '../lib/broker.mjs'
import { account } from '../lib/ledger.mjs'
import { RUN_DIR } from '../lib/paths.mjs'
import { row } from '../lib/report.mjs'
import { readLines } from '../lib/util.mjs'

// What may remain after stop: the IPC channel to the runner (and its stdio when it is a pipe or a TTY).
const ALLOWED_AFTER_STOP = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback'])

export default {
  name: 'soak',
  graceful: true,
  async run({ quick, log }) {
    const durationMs = quick ? 60_000 : 240_000
    const warmupMs = quick ? 15_000 : 40_000
    const queue = uniqueName('soak')
    const sentLedger = join(RUN_DIR, `${queue}.sent`)
    const processedLedger = join(RUN_DIR, `${queue}.processed`)
    const problems = []
    let app
    try {
      await declareQueue(queue)
      app = new App(
        'soak.mjs',
        {
          url: AMQP_URL,
          queue,
          sentLedger,
          processedLedger,
          durationMs,
          warmupMs,
          perTick: 2,
          controlEveryMs: 1500,
        },
        { name: 'soak', execArgv: ['--expose-gc'] },
      )
      await app.next('ready')
      const r = await app.next('result', durationMs + 180_000)
      const exit = await app.waitExit(30_000)
      const remaining = await drainQueue(queue)
      const a = account({ sent: readLines(sentLedger), processed: readLines(processedLedger), remaining })
      const growth = (r.end.heapUsed - r.base.heapUsed) / r.base.heapUsed
      const mb = (b) => (b / 1024 / 1024).toFixed(1)
      const fmt = (res) =>
        Object.entries(res)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')
      log(
        `  heap ${mb(r.base.heapUsed)} → ${mb(r.end.heapUsed)} MB (${(growth * 100).toFixed(1)} %); handles at warm-up {${fmt(r.base.resources)}}, at end {${fmt(r.end.resources)}}, after stop {${fmt(r.afterStop)}}`,
      )
      log(
        `  ${r.ops.suspend} suspend/resume, ${r.ops.stop} stop/start, ${r.ops.failed} failed; ${r.ticks} timer ticks; sends refused ${JSON.stringify(r.rejected)}`,
      )
      if (growth >= 0.1) problems.push(`heap grew ${(growth * 100).toFixed(1)} %`)
      if (fmt(r.base.resources) !== fmt(r.end.resources))
        problems.push(`handles changed: {${fmt(r.base.resources)}} → {${fmt(r.end.resources)}}`)
      const leaked = Object.keys(r.afterStop).filter((k) => !ALLOWED_AFTER_STOP.has(k))
      if (leaked.length > 0) problems.push(`left after stop: {${fmt(r.afterStop)}}`)
      if (r.ops.failed > 0) problems.push(`${r.ops.failed} control actions failed (see ${app.logFile})`)
      if (!r.graceful || exit.code !== 0) problems.push('the final stop was not graceful')
      if (r.log.error > 0 || r.log.warn > 0)
        problems.push(`${r.log.warn} warnings and ${r.log.error} errors logged, e.g. ${r.notable[0]?.msg}`)
      if (a.lostIds.length > 0) problems.push(`lost e.g. ${a.lostIds.join(',')}`)
      return [
        row({
          scenario: 'soak',
          graceful: true,
          trials: 1,
          sent: a.sent,
          processed: a.processed,
          lost: a.lost,
          duplicated: a.duplicated,
          passed: problems.length === 0 && a.lost === 0 && a.duplicated === 0 && a.processed === a.sent,
          notes: [
            `${durationMs / 1000} s (warm-up ${warmupMs / 1000} s), ~400 msgs/s; ${r.ops.suspend} suspend/resume + ${r.ops.stop} stop/start of seda, amqp, direct and timer routes`,
            `heap ${mb(r.base.heapUsed)} → ${mb(r.end.heapUsed)} MB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %), handles {${fmt(r.end.resources)}} at both points, {${fmt(r.afterStop)}} after stop`,
            ...problems.slice(0, 3),
          ].join('; '),
        }),
      ]
    } finally {
      if (app?.running) await app.kill()
      await deleteTopology({ queues: [queue] })
    }
  },
}
