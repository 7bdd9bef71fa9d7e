// Keeps docs/errors.md and the packages' error registries in step (SPEC §9): every registered code is
// documented under its package's section, and every documented code is registered.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { CoreErrorCodes } from '@dromedary/core'

const DOC = new URL('../../docs/errors.md', import.meta.url)
const CODE = /DROMEDARY_ERR_[A-Z0-9_]+/g

/** Codes per `## @dromedary/<pkg>` section of docs/errors.md; codes outside any such section under `''`. */
async function documentedCodes(): Promise<Map<string, Set<string>>> {
  const text = await readFile(DOC, 'utf8')
  const sections = new Map<string, Set<string>>([['', new Set()]])
  let current = ''
  for (const line of text.split('\n')) {
    const heading = /^## .*@dromedary\/([a-z-]+)/.exec(line)
    if (heading !== null) {
      current = heading[1]!
      if (!sections.has(current)) sections.set(current, new Set())
      continue
    }
    if (/^## /.test(line)) current = ''
    // The introduction shows usage examples (`isDromedaryError(err, 'DROMEDARY_ERR_NO_CONSUMER')`); only
    // table rows define codes.
    if (!line.startsWith('|')) continue
    for (const code of line.match(CODE) ?? []) sections.get(current)!.add(code)
  }
  return sections
}

/**
 * The `*ErrorCodes` map a transport package exports from its index, or undefined when it exports none.
 * Loaded at run time so this suite does not depend on the packages' exports at type level.
 */
async function exportedCodes(pkg: Transport): Promise<readonly string[] | undefined> {
  const mod = (await TRANSPORTS[pkg]()) as Record<string, unknown>
  const key = Object.keys(mod).find((k) => k.endsWith('ErrorCodes'))
  if (key === undefined) return undefined
  return Object.values(mod[key] as Record<string, string>)
}

/** Every transport package, loaded at run time. */
const TRANSPORTS = {
  amqp: () => import('@dromedary/amqp'),
  http: () => import('@dromedary/http'),
  postgres: () => import('@dromedary/postgres'),
  nats: () => import('@dromedary/nats'),
  redis: () => import('@dromedary/redis'),
}
type Transport = keyof typeof TRANSPORTS

const sorted = (codes: Iterable<string>) => [...codes].sort()

const doc = await documentedCodes()
const registries: Record<string, readonly string[] | undefined> = {
  core: Object.values(CoreErrorCodes),
  amqp: await exportedCodes('amqp'),
  http: await exportedCodes('http'),
  postgres: await exportedCodes('postgres'),
  nats: await exportedCodes('nats'),
  redis: await exportedCodes('redis'),
}

describe('docs/errors.md', () => {
  it('lists exactly the codes of @dromedary/core (CoreErrorCodes) under its section', () => {
    expect(sorted(doc.get('core') ?? [])).toEqual(sorted(Object.values(CoreErrorCodes)))
  })

  for (const pkg of Object.keys(TRANSPORTS) as Transport[]) {
    it(`lists exactly the codes of @dromedary/${pkg} under its section`, () => {
      // Every transport exports its `*ErrorCodes` map from its index; a missing map is a failure, not a skip.
      const codes = registries[pkg]
      expect(codes, `@dromedary/${pkg} exports no *ErrorCodes map`).toBeDefined()
      expect(sorted(doc.get(pkg) ?? [])).toEqual(sorted(codes ?? []))
    })
  }

  it('lists no code outside a package section', () => {
    expect(sorted(doc.get('') ?? [])).toEqual([])
  })

  it('documents no code that no registry defines', () => {
    const registered = new Set(Object.values(registries).flatMap((codes) => codes ?? []))
    const documented = [...doc.entries()]
      .filter(([pkg]) => registries[pkg] !== undefined)
      .flatMap(([, c]) => [...c])
    expect(documented.filter((code) => !registered.has(code))).toEqual([])
  })

  it('never gives two packages the same code', () => {
    const all = Object.values(registries).flatMap((codes) => codes ?? [])
    expect(all.length).toBe(new Set(all).size)
  })
})
