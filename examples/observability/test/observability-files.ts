// The files of examples/observability as the tests read them: rule files, the dashboard's queries, and the
// metric names documented in docs/metrics.md.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const here = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url))

/** Absolute paths of the rule files and their unit tests. */
export const RULES = {
  recording: here('prometheus/dromedary-recording-rules.yml'),
  alerting: here('prometheus/dromedary-alerting-rules.yml'),
  tests: here('prometheus/dromedary-rules.test.yml'),
}

/** The Grafana dashboard. */
export const DASHBOARD = here('grafana/dromedary-dashboard.json')

interface Panel {
  readonly id: number
  readonly type: string
  readonly title: string
  readonly gridPos?: { h: number; w: number; x: number; y: number }
  readonly datasource?: { uid: string }
  readonly targets?: ReadonlyArray<{ expr: string; datasource?: { uid: string } }>
}

/** The dashboard JSON. */
export function dashboard(): {
  uid: string
  panels: Panel[]
  annotations: { list: Array<{ expr: string }> }
  templating: { list: Array<{ name: string; type: string }> }
} {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8')) as ReturnType<typeof dashboard>
}

/** Every PromQL expression of the dashboard (panel targets and annotations). */
export function dashboardQueries(): string[] {
  const d = dashboard()
  return [
    ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...d.annotations.list.map((a) => a.expr),
  ]
}

/** A dashboard query with Grafana's variables replaced, so Prometheus itself can run it. */
export function withoutVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replace(/\$[a-z_]+/g, '.*')
}

/** The names the recording rules define. */
export function recordedNames(): string[] {
  return [...readFileSync(RULES.recording, 'utf8').matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]!)
}

/** Every expression of both rule files. */
export function ruleExpressions(): string[] {
  const text = readFileSync(RULES.recording, 'utf8') + readFileSync(RULES.alerting, 'utf8')
  // `expr: one line` or `expr: |` followed by an indented block.
  return [...text.matchAll(/^(\s*)expr: (?:\|\n((?:\1\s+.*\n)+)|(.*)\n)/gm)].map((m) =>
    (m[2] ?? m[3] ?? '').trim(),
  )
}

/** The metric names of the table in docs/metrics.md (`dromedary_…`). */
export function documentedMetrics(): string[] {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/metrics.md', import.meta.url)), 'utf8')
  return [...doc.matchAll(/^\| `(dromedary_[a-z_]+)`(?:, `(dromedary_[a-z_]+)`)? \|/gm)].flatMap((m) =>
    m[2] === undefined ? [m[1]!] : [m[1]!, m[2]],
  )
}

/** The Dromedary metric and recording-rule names an expression uses. */
export function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(?:[a-z_]+:)?dromedary_[a-z0-9_]+(?::[a-z0-9_]+)?/g)].map((m) => m[0])
}

/** A name's base metric: histogram series suffixes removed. */
export function baseMetric(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '')
}
