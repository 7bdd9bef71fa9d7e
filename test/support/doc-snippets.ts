// The TypeScript code blocks of the user docs, as the doc-snippet test compiles and runs them.
// Convention: every ```ts block is a complete module that is type-checked strict and run; ```ts compile-only
// is only type-checked (for a block that needs what the test machine cannot offer); ```ts file=<path> shows a
// file of the repository verbatim (a test file the suite itself compiles and runs), and must equal it.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './build-lock.js'

/** One ```ts block of a markdown file. */
export interface DocSnippet {
  /** Path of the markdown file, relative to the repository root. */
  readonly file: string
  /** 1-based line of the opening fence. */
  readonly line: number
  /** A file-name-safe id, unique across the docs: `docs-amqp-md-1`. */
  readonly id: string
  readonly code: string
  /** Marked ```ts compile-only: type-checked, not run. */
  readonly compileOnly: boolean
  /** Marked ```ts file=<path>: the repository file it shows verbatim; neither compiled nor run here. */
  readonly verbatim?: string
}

/** The user docs: README.md, docs/*.md, packages/*\/README.md, examples/*\/README.md. */
export function userDocs(root = ROOT): string[] {
  const mdIn = (dir: string) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((f) => f.endsWith('.md'))
          .sort()
          .map((f) => `${dir}/${f}`)
      : []
  const readmes = (dir: string) =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(root, dir, e.name, 'README.md')))
      .map((e) => `${dir}/${e.name}/README.md`)
      .sort()
  return ['README.md', ...mdIn('docs'), ...readmes('packages'), ...readmes('examples')]
}

const FENCE = /^(`{3,}|~{3,})(.*)$/

/** The ```ts blocks of one markdown text (other languages and ```tsx etc. are left alone). */
export function extractSnippets(file: string, markdown: string): DocSnippet[] {
  const out: DocSnippet[] = []
  const lines = markdown.split('\n')
  const base = file.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!.trimEnd())
    if (open === null) continue
    const [, fence, info] = open as unknown as [string, string, string]
    const words = info.trim().split(/\s+/)
    let end = i + 1
    while (end < lines.length && !lines[end]!.trimEnd().startsWith(fence)) end++
    if (words[0] === 'ts' || words[0] === 'typescript') {
      out.push({
        file,
        line: i + 1,
        id: `${base}-${out.length + 1}`,
        code: lines.slice(i + 1, end).join('\n') + '\n',
        compileOnly: words.includes('compile-only'),
        ...fileOf(words),
      })
    }
    i = end
  }
  return out
}

function fileOf(words: readonly string[]): { verbatim?: string } {
  const w = words.find((x) => x.startsWith('file='))
  return w === undefined ? {} : { verbatim: w.slice('file='.length) }
}

/** Every ```ts block of every user doc. */
export function allSnippets(root = ROOT): DocSnippet[] {
  return userDocs(root).flatMap((f) => extractSnippets(f, readFileSync(join(root, f), 'utf8')))
}

/** Ports of the local services, never rewritten. */
const SERVICE_PORTS = new Set([5672, 15672, 5432, 6379, 4222, 8222])

/**
 * Rewrites the literal ports a snippet listens on or calls (`port: 8080`, `http://127.0.0.1:8080/…`,
 * `localhost:3000`) to the ports `pick` gives; the same literal gets the same port throughout a snippet.
 * The ports of the local services are kept, and a host `'0.0.0.0'` becomes `'127.0.0.1'`.
 */
export async function rewritePorts(
  code: string,
  pick: () => Promise<number>,
): Promise<{ code: string; ports: Map<number, number> }> {
  const pattern = /(\bport:\s*|\b(?:127\.0\.0\.1|localhost|0\.0\.0\.0):)(\d{2,5})\b/g
  const ports = new Map<number, number>()
  for (const m of code.matchAll(pattern)) {
    const literal = Number(m[2])
    if (literal === 0 || SERVICE_PORTS.has(literal) || ports.has(literal)) continue
    ports.set(literal, await pick())
  }
  const rewritten = code.replace(pattern, (all, prefix: string, digits: string) => {
    const to = ports.get(Number(digits))
    return to === undefined ? all : `${prefix}${to}`
  })
  // A container binds every interface; a test binds the loopback only.
  return { code: rewritten.replace(/(['"])0\.0\.0\.0\1/g, (_, q: string) => `${q}127.0.0.1${q}`), ports }
}
