import { readdir, readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import * as testing from '@dromedary/core/testing'

const src = new URL('../../src/', import.meta.url)

async function sourceFiles(dir: URL): Promise<URL[]> {
  const out: URL[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await sourceFiles(new URL(`${e.name}/`, dir))))
    else if (e.name.endsWith('.ts')) out.push(new URL(e.name, dir))
  }
  return out
}

describe('@dromedary/core/testing public API', () => {
  it('exports exactly these runtime values', () => {
    // Adding or removing a runtime export is an API change: update this list on purpose, with its JSDoc.
    expect(Object.keys(testing).sort()).toEqual([
      'CONFORMANCE_ROUTE_ID',
      'consumerConformanceChecks',
      'describeConsumerConformance',
      'describeProducerConformance',
      'producerConformanceChecks',
    ])
  })

  it('is a separate entry of the package, with its types', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>
    }
    expect(pkg.exports['./testing']).toEqual({
      types: './dist/testing/index.d.ts',
      default: './dist/testing/index.js',
    })
  })

  it('re-exports nothing wholesale', async () => {
    expect(await readFile(new URL('testing/index.ts', src), 'utf8')).not.toMatch(/export \*/)
  })

  it('is never imported by the runtime, and imports no test runner', async () => {
    const offenders: string[] = []
    for (const file of await sourceFiles(src)) {
      const text = await readFile(file, 'utf8')
      const inKit = file.pathname.includes('/src/testing/')
      if (!inKit && /from '(?:\.\.?\/)+testing\//.test(text)) offenders.push(file.pathname)
      if (inKit && /from '(?:vitest|jest|@jest\/|node:test)/.test(text)) offenders.push(file.pathname)
    }
    expect(offenders).toEqual([])
  })
})
