import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it, type TestContext } from 'vitest'
import { missingTool } from '../../../test/support/system-tool.js'
import {
  baseMetric,
  dashboard,
  dashboardQueries,
  documentedMetrics,
  namesIn,
  recordedNames,
  ruleExpressions,
  RULES,
} from './observability-files.js'

const PROMTOOL = '/usr/bin/promtool'
const run = promisify(execFile)

function promtool(t: TestContext): string {
  const why = missingTool(PROMTOOL, 'prometheus', 'the Prometheus rule tests')
  if (why !== undefined) {
    console.warn(`Skipping the promtool tests: ${why}`)
    t.skip()
  }
  return PROMTOOL
}

describe('Prometheus rules and Grafana dashboard of examples/observability', () => {
  it('pass promtool check rules: 9 recording rules and 7 alerts', async (t) => {
    const { stdout } = await run(promtool(t), ['check', 'rules', RULES.recording, RULES.alerting])
    expect(stdout).toContain('SUCCESS: 9 rules found')
    expect(stdout).toContain('SUCCESS: 7 rules found')
  })

  it('pass their promtool unit tests', async (t) => {
    const { stdout } = await run(promtool(t), ['test', 'rules', RULES.tests])
    expect(stdout).toMatch(/SUCCESS/)
  })

  it('use only documented metrics and the recording rules defined here', () => {
    const known = new Set([...documentedMetrics(), ...recordedNames()])
    expect(documentedMetrics()).toContain('dromedary_worker_group_busy')
    expect(ruleExpressions()).toHaveLength(16)
    expect(ruleExpressions().every((e) => e.includes('dromedary'))).toBe(true)
    const used = [...ruleExpressions(), ...dashboardQueries()].flatMap(namesIn).map(baseMetric)
    expect(used.length).toBeGreaterThan(40)
    expect([...new Set(used.filter((n) => !known.has(n)))]).toEqual([])
  })

  it('cover every documented metric between the rules and the dashboard', () => {
    const used = new Set([...ruleExpressions(), ...dashboardQueries()].flatMap(namesIn).map(baseMetric))
    expect(documentedMetrics().filter((m) => !used.has(m))).toEqual([])
  })

  it('lay the dashboard out with unique panel ids, and query only through its datasource variable', () => {
    const d = dashboard()
    const ids = d.panels.map((p) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(d.templating.list.map((v) => v.name)).toEqual([
      'datasource',
      'job',
      'instance',
      'context',
      'route',
    ])
    for (const p of d.panels) {
      expect(p.gridPos, p.title).toBeDefined()
      if (p.type === 'row') continue
      expect(p.datasource?.uid, p.title).toBe('${datasource}')
      for (const target of p.targets ?? []) expect(target.datasource?.uid, p.title).toBe('${datasource}')
    }
  })
})
