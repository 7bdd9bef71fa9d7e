// Result rows: one per scenario (or scenario variant), written to results/latest.json and printed as a table.
import { mkdirSync, writeFileSync } from 'node:fs'

/**
 * `{ scenario, graceful, trials, sent, processed, lost, duplicated, passed, notes }`. `graceful` is whether
 * the stops in the scenario were graceful (null when it stops nothing); counts that do not apply are null.
 */
export function row({
  scenario,
  graceful = null,
  trials,
  sent = null,
  processed = null,
  lost = null,
  duplicated = null,
  passed,
  notes = '',
}) {
  return { scenario, graceful, trials, sent, processed, lost, duplicated, passed, notes }
}

/**
 * The row of an AMQP scenario that stops consumers by a fault (not gracefully), from its summed ledger
 * accounts `s` (lib/ledger.mjs). Holds when nothing is lost, no problem was noted, and, unless
 * `requireAllProcessed` is false (messages may be left in the queue), every message was processed with at
 * most `maxDuplicated` processed twice. The notes end with the first problems and a sample of lost ids.
 */
export function faultRow({
  scenario,
  trials,
  s,
  notes,
  problems,
  maxDuplicated = Number.POSITIVE_INFINITY,
  requireAllProcessed = true,
}) {
  const all = [...notes, ...problems.slice(0, 3)]
  if (s.lostIds.length > 0) all.push(`lost e.g. ${s.lostIds.join(',')}`)
  const processedAll = !requireAllProcessed || (s.processed === s.sent && s.duplicated <= maxDuplicated)
  return row({
    scenario,
    graceful: false,
    trials,
    sent: s.sent,
    processed: s.processed,
    lost: s.lost,
    duplicated: s.duplicated,
    passed: s.lost === 0 && processedAll && problems.length === 0,
    notes: all.join('; '),
  })
}

/** A row for a scenario that could not run to the end. */
export function failedRow(scenario, graceful, err) {
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err)
  return row({ scenario, graceful, trials: 0, passed: false, notes: `error: ${message}` })
}

const fmt = (v) =>
  v === null || v === undefined
    ? '—'
    : typeof v === 'boolean'
      ? v
        ? 'yes'
        : 'no'
      : typeof v === 'number' && Math.abs(v) >= 10_000
        ? v.toLocaleString('en-US')
        : String(v)

/** The rows as an aligned text table (also pasted into docs/reliability.md). */
export function formatTable(rows) {
  const header = [
    'scenario',
    'graceful',
    'trials',
    'sent',
    'processed',
    'lost',
    'duplicated',
    'passed',
    'notes',
  ]
  const lines = rows.map((r) => [
    r.scenario,
    fmt(r.graceful),
    fmt(r.trials),
    fmt(r.sent),
    fmt(r.processed),
    fmt(r.lost),
    fmt(r.duplicated),
    r.passed ? 'PASS' : 'FAIL',
    r.notes,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const line = (cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n')
}

export function writeResults(file, rows) {
  mkdirSync(new URL('.', file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`)
}
