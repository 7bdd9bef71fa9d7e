// Every ```ts block of the user docs (README.md, docs/*.md, packages/*/README.md, examples/*/README.md),
// type-checked strict in one tsc run and then run with node, two at a time, against the local services: a
// runnable block passes when it exits 0 on its own. A block that calls `ctx.run()` is a service: it is
// stopped like a user stops it, with one Ctrl-C (SIGINT) once it says it is running, and must then exit 0.
// Literal ports are rewritten to free ones; AMQP blocks get a freshly created vhost, deleted afterwards. A
// ```ts file=<path> block shows a test file of the repository (which the suite runs) and must equal it.
import { spawn, execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allSnippets, rewritePorts, type DocSnippet } from '../support/doc-snippets.js'
import { ensurePackagesBuilt, freePort, ROOT } from '../support/example-process.js'

const execFileP = promisify(execFile)
const DIR = join(ROOT, 'test', '.snippets')
const RUN_TIMEOUT_MS = 30_000
const PARALLEL = 2
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

const all = allSnippets()
const verbatim = all.filter((s) => s.verbatim !== undefined)
const snippets = all.filter((s) => s.verbatim === undefined)
const runnable = snippets.filter((s) => !s.compileOnly)

interface RunResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: string
  readonly why?: string
}

let typeErrors = new Map<string, string[]>()
const results = new Map<string, RunResult>()
let vhost: string | undefined

const where = (s: DocSnippet) => `${s.file}:${s.line}`

/** A vhost of its own for the AMQP blocks, with guest's permissions. */
async function createVhost(): Promise<string> {
  const name = `dromedary-doc-snippets-${randomBytes(4).toString('hex')}`
  await execFileP('rabbitmqctl', ['add_vhost', name])
  await execFileP('rabbitmqctl', ['set_permissions', '-p', name, 'guest', '.*', '.*', '.*'])
  return name
}

/** Type-checks every block in one `tsc` run; returns the errors by snippet id. */
async function typeCheck(): Promise<Map<string, string[]>> {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const out = await execFileP(process.execPath, [tsc, '-p', join(DIR, 'tsconfig.json')], {
    cwd: DIR,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => r.stdout,
    (err: { stdout?: string; message: string }) => err.stdout ?? err.message,
  )
  const errors = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of out.split('\n')) {
    const m = /^([\w.-]+)\.ts\((\d+),(\d+)\): (error .*)$/.exec(line)
    if (m !== null) {
      const s = snippets.find((x) => x.id === m[1])
      const at = s === undefined ? `${m[1]}.ts:${m[2]}` : `${s.file}:${s.line + Number(m[2]) - 1}`
      current = errors.get(m[1]!) ?? []
      errors.set(m[1]!, current)
      current.push(`${at}:${m[3]} ${m[4]}`)
    } else if (line.startsWith(' ') && current !== undefined) current.push(line)
    else if (line.trim() !== '') errors.set('(tsc)', [...(errors.get('(tsc)') ?? []), line])
  }
  return errors
}

/** Runs one compiled block; a `ctx.run()` block gets a SIGINT once it logs that it is running. */
function runSnippet(s: DocSnippet, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(DIR, 'dist', `${s.id}.js`)], {
      cwd: DIR,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    let why: string | undefined
    const service = /\bctx\.run\(/.test(s.code)
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (service && why === undefined && /"msg":"Running: /.test(output)) {
        why = 'stopped with SIGINT once running'
        child.kill('SIGINT')
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => {
      why = `still running after ${RUN_TIMEOUT_MS} ms${service ? ' (never logged "Running: …")' : ''}; killed`
      child.kill('SIGKILL')
    }, RUN_TIMEOUT_MS)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output, ...(why === undefined ? {} : { why }) })
    })
  })
}

beforeAll(async () => {
  ensurePackagesBuilt('core', 'amqp', 'http', 'postgres', 'nats', 'redis')
  rmSync(DIR, { recursive: true, force: true })
  mkdirSync(DIR, { recursive: true })
  writeFileSync(join(DIR, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  writeFileSync(
    join(DIR, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        composite: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        incremental: false,
        rootDir: '.',
        outDir: 'dist',
      },
      include: ['*.ts'],
    }),
  )
  const rewritten = new Map<string, string>()
  for (const s of snippets) {
    const { code } = s.compileOnly ? { code: s.code } : await rewritePorts(s.code, freePort)
    rewritten.set(s.id, code)
    writeFileSync(join(DIR, `${s.id}.ts`), `// ${where(s)}\n${code}`)
  }
  typeErrors = await typeCheck()

  if (runnable.some((s) => /amqp/i.test(s.code))) vhost = await createVhost()
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (vhost !== undefined) {
    const url = new URL(AMQP_URL)
    url.pathname = `/${encodeURIComponent(vhost)}`
    env.AMQP_URL = url.href
  }
  const queue = runnable.filter((s) => !typeErrors.has(s.id))
  const worker = async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift())
      results.set(s.id, await runSnippet(s, env))
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
}, 240_000)

afterAll(async () => {
  if (vhost !== undefined) await execFileP('rabbitmqctl', ['delete_vhost', vhost])
})

describe('the ```ts blocks of the user docs', () => {
  it('are there to check', () => {
    expect(snippets.length).toBeGreaterThan(20)
    expect(runnable.length).toBeGreaterThan(10)
  })

  it('type-check as a whole (tsc ran)', () => {
    expect(typeErrors.get('(tsc)') ?? []).toEqual([])
  })

  it.each(snippets.map((s) => [where(s), s] as const))('%s type-checks strict', (_, s) => {
    expect(typeErrors.get(s.id) ?? [], `${where(s)}:\n${s.code}`).toEqual([])
  })

  it.each(verbatim.map((s) => [where(s), s] as const))('%s is its file, verbatim', (_, s) => {
    expect(s.code).toBe(readFileSync(join(ROOT, s.verbatim!), 'utf8'))
  })

  it.each(runnable.map((s) => [where(s), s] as const))('%s runs and exits 0', (_, s) => {
    if (typeErrors.has(s.id)) throw new Error(`${where(s)} does not type-check, so it was not run`)
    const r = results.get(s.id)
    expect(r, `${where(s)} was not run`).toBeDefined()
    expect(
      { code: r!.code, signal: r!.signal },
      `${where(s)}${r!.why === undefined ? '' : ` (${r!.why})`} printed:\n${r!.output}`,
    ).toEqual({ code: 0, signal: null })
  })
})
