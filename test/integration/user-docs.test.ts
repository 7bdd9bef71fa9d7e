// The user docs stand on their own and agree with the code: no references a reader cannot follow (the
// specification, the seeds, issue numbers), every example has a README, and the defaults they state for the
// shutdown options are the code's.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createContext, DefaultShutdownStrategy } from '@dromedary/core'
import { describe, expect, it } from 'vitest'
import { HTTP_DEFAULTS } from '../../packages/http/src/http-options.js'
import { ROOT } from '../support/build-lock.js'
import { userDocs } from '../support/doc-snippets.js'

const INTERNAL = [
  /\bSPEC\b/,
  /\bseeds?\s+0\d\d\b/i,
  /shared\/seeds/,
  /\bissues?\s+#?\d+/i,
  /\bseed bc[0-9a-f]+/i,
]

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

describe('the user docs', () => {
  const docs = userDocs()

  it('are found (README.md, docs/, package and example READMEs)', () => {
    expect(docs).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/getting-started.md',
        'docs/testing.md',
        'packages/core/README.md',
        'examples/orders/README.md',
      ]),
    )
  })

  it('cite no specification section, seed or issue number', () => {
    const hits = docs.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, i) =>
          INTERNAL.some((re) => re.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
        ),
    )
    expect(hits).toEqual([])
  })

  it('include a README for every example', () => {
    const examples = readdirSync(join(ROOT, 'examples'), { withFileTypes: true }).filter((e) =>
      e.isDirectory(),
    )
    expect(
      examples.filter((e) => !existsSync(join(ROOT, 'examples', e.name, 'README.md'))).map((e) => e.name),
    ).toEqual([])
  })

  it('document in each example README the environment variables its source reads', () => {
    for (const e of readdirSync(join(ROOT, 'examples'), { withFileTypes: true })) {
      const src = join(ROOT, 'examples', e.name, 'src')
      if (!e.isDirectory() || !existsSync(src)) continue
      const code = readdirSync(src)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join(src, f), 'utf8'))
        .join('\n')
      const vars = new Set(
        [...code.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|process\.env\.([A-Z][A-Z0-9_]+)/g)].map(
          (m) => m[1] ?? m[2]!,
        ),
      )
      const readme = read(`examples/${e.name}/README.md`)
      expect(
        [...vars].filter((v) => !readme.includes(`\`${v}\``)),
        `examples/${e.name}/README.md`,
      ).toEqual([])
    }
  })

  it('state the default strategy options of the code in the shutdown and concepts tables', () => {
    const strategy = new DefaultShutdownStrategy()
    const defaults: Record<string, unknown> = {
      timeoutMs: strategy.timeoutMs,
      shutdownNowOnTimeout: strategy.shutdownNowOnTimeout,
      shutdownRoutesInReverseOrder: strategy.shutdownRoutesInReverseOrder,
      suppressLoggingOnTimeout: strategy.suppressLoggingOnTimeout,
      logInflightExchangesOnTimeout: strategy.logInflightExchangesOnTimeout,
      progressIntervalMs: strategy.progressIntervalMs,
    }
    const stated = (file: string, prefix: string) =>
      Object.fromEntries(
        Object.keys(defaults).map((k) => {
          const row = new RegExp(`^\\| \`${prefix}${k}\` \\| \`([^\`]+)\` \\|`, 'm').exec(read(file))
          const raw = row?.[1]?.replace(/_/g, '')
          return [k, raw === undefined ? 'missing' : (JSON.parse(raw) as unknown)]
        }),
      )
    expect(stated('docs/shutdown.md', '')).toEqual(defaults)
    expect(stated('docs/concepts.md', 'shutdown.')).toEqual(defaults)
  })

  it('state the defaults of httpComponent(options) of the code (docs/http.md)', () => {
    const doc = read('docs/http.md')
    const stated = Object.fromEntries(
      Object.keys(HTTP_DEFAULTS).map((k) => {
        const raw = new RegExp(`^\\| \`${k}\` \\| \`([^\`]+)\``, 'm').exec(doc)?.[1]
        return [k, raw === undefined ? 'missing' : (JSON.parse(raw.replace(/'/g, '"')) as unknown)]
      }),
    )
    expect(stated).toEqual({ ...HTTP_DEFAULTS })
  })

  it('name only metrics the code registers (docs/metrics.md)', () => {
    const sources = readdirSync(join(ROOT, 'packages'))
      .flatMap((pkg) => {
        const src = join(ROOT, 'packages', pkg, 'src')
        return existsSync(src)
          ? readdirSync(src, { recursive: true, encoding: 'utf8' }).map((f) => join(src, f))
          : []
      })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n')
    const documented = [...read('docs/metrics.md').matchAll(/^\| `dromedary_([a-z_]+)`/gm)].map((m) => m[1]!)
    expect(documented.length).toBeGreaterThan(10)
    // Registered as `${prefix}name` by core, or as 'name' through the metrics SPI (which adds the prefix).
    const registered = (name: string) => sources.includes(`}${name}\``) || sources.includes(`'${name}'`)
    expect(documented.filter((name) => !registered(name))).toEqual([])
  })

  it('state the timeout the context itself uses when nothing is configured', () => {
    const ctx = createContext({ logger: false, metrics: false })
    expect((ctx.shutdownStrategy as DefaultShutdownStrategy).timeoutMs).toBe(300_000)
    expect(read('README.md')).toContain('(300 s by default)')
    expect(read('docs/shutdown.md')).toContain('(300 s by default)')
  })
})
