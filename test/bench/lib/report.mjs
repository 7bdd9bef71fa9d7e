// Turns samples into result rows, prints them as a table and writes results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import { median, round } from './stats.mjs'

/**
 * One row of latest.json. `ours` and `baseline` are the medians of their samples; `ratio` is the median of
 * the per-pair ratios ours/baseline (each pair ran back to back, so slow spells of a noisy machine hit both
 * sides of a pair alike); `met` compares that ratio with the target.
 */
export function toRow(spec, pairs) {
  const ok = pairs.filter(
    (p) => Number.isFinite(p.ours[spec.metric]) && Number.isFinite(p.baseline[spec.metric]),
  )
  if (ok.length === 0) return failedRow(spec, 'no valid samples')
  const ratio = median(ok.map((p) => p.ours[spec.metric] / p.baseline[spec.metric]))
  return {
    name: spec.name,
    unit: spec.unit,
    ours: round(median(ok.map((p) => p.ours[spec.metric]))),
    baseline: round(median(ok.map((p) => p.baseline[spec.metric]))),
    ratio: round(ratio, 3),
    target: spec.target,
    better: spec.better,
    met: spec.better === 'higher' ? ratio >= spec.target : ratio <= spec.target,
  }
}

/** A row whose benchmark could not run: no figures, not met, and why. */
export function failedRow(spec, note) {
  return {
    name: spec.name,
    unit: spec.unit,
    ours: null,
    baseline: null,
    ratio: null,
    target: spec.target,
    better: spec.better,
    met: false,
    note,
  }
}

const fmt = (v) =>
  v === null ? '—' : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : String(v)

/** The rows as an aligned text table (also pasted into docs/benchmarks.md). */
export function formatTable(rows) {
  const header = ['name', 'unit', 'ours', 'baseline', 'ratio', 'target', 'met']
  const lines = rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.ours),
    fmt(r.baseline),
    fmt(r.ratio),
    `${r.better === 'higher' ? '≥' : '≤'} ${r.target}`,
    r.met ? 'yes' : r.note === undefined ? 'NO' : `NO (${r.note})`,
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const line = (cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...lines.map(line)].join('\n')
}

export function writeResults(file, rows) {
  mkdirSync(new URL('.', file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`)
}
