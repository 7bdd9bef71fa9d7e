// fuzz-dsl-and-uris: 10,000 fast-check cases of context options, component options, URIs with options and
// DSL chains against createContext/addRoutes (valid ones without a broker are also started and stopped), in
// a child process. Holds when each case is a valid route or a DromedaryError with a code, nothing else is
// thrown, nothing hangs or is rejected unhandled, and the process does not crash.
import { App } from '../lib/child.mjs'
import { row } from '../lib/report.mjs'

export default {
  name: 'fuzz-dsl-and-uris',
  async run({ log }) {
    const runs = 10_000
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
    const app = new App('fuzz-dsl.mjs', { runs, seed }, { name: 'fuzz-dsl' })
    const result = await app.next('result', 600_000)
    const exit = await app.waitExit(10_000)
    const { stats, failures } = result
    for (const f of failures) log(`  FAILURE ×${f.count}: ${f.kind}\n    e.g. ${f.example}`)
    const codes = Object.entries(stats.codes)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([code, n]) => `${code.replace('DROMEDARY_ERR_', '')} ${n}`)
    const notes = [
      `seed ${seed}; ${stats.valid} valid (${stats.started} started and stopped), ${stats.rejected} DromedaryErrors (${codes.join(', ')}, …)`,
      ...failures.slice(0, 3).map((f) => `${f.count}× ${f.kind}`),
    ]
    if (exit.code !== 0) notes.push(`fuzz process exited ${exit.code ?? exit.signal}`)
    const bad = failures.reduce((n, f) => n + f.count, 0)
    return [
      row({
        scenario: 'fuzz-dsl-and-uris',
        trials: stats.cases,
        sent: stats.cases,
        processed: stats.cases - bad,
        passed: failures.length === 0 && exit.code === 0 && stats.cases === runs,
        notes: notes.join('; '),
      }),
    ]
  },
}
