// Helpers for the examples' smoke tests: build an example if needed, spawn it, read its pino log lines,
// signal it and wait for its exit. Waiting is on output and exit events, never on sleeps.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { join } from 'node:path'
import { ROOT, withBuildLock } from './build-lock.js'

export { ROOT }

/** One log line of an example: pino's JSON, or `{ msg }` for anything else it printed. */
export interface LogLine {
  readonly level?: number
  readonly msg: string
  readonly [key: string]: unknown
}

/** A running example. */
export interface ExampleProcess {
  readonly child: ChildProcess
  /** Every line printed so far, stdout and stderr. */
  readonly lines: readonly LogLine[]
  /** Resolves with the first line (already printed or still to come) matching `predicate`. */
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** Resolves with the exit code (or the signal that killed it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The whole output, for assertion messages. */
  output(): string
  /** Kills the process if it is still running (test cleanup). */
  kill(): void
}

function newestMtime(dir: string): number {
  let newest = 0
  if (!existsSync(dir)) return newest
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

function isStale(example: string): boolean {
  const main = join(ROOT, 'examples', example, 'dist', 'main.js')
  if (!existsSync(main)) return true
  // tsc -b leaves unchanged outputs alone but always rewrites the build info of a project it checked.
  const info = join(ROOT, 'examples', example, 'tsconfig.tsbuildinfo')
  const built = Math.max(statSync(main).mtimeMs, existsSync(info) ? statSync(info).mtimeMs : 0)
  const sources = [
    join(ROOT, 'examples', example, 'src'),
    ...['core', 'amqp', 'http', 'postgres'].map((p) => join(ROOT, 'packages', p, 'src')),
    // The management console's browser code, built into @dromedary/http's dist.
    join(ROOT, 'packages', 'http', 'console'),
  ]
  return sources.some((dir) => newestMtime(dir) > built)
}

/**
 * Builds `examples/<name>` (and the packages it references) with `tsc -b` when its `dist` is missing or older
 * than the sources. `pnpm test` has built everything already; this is for running one smoke test alone.
 * Test files run in parallel processes, so builds are serialised with a lock directory.
 */
export function ensureBuilt(example: string): void {
  if (!isStale(example)) return
  withBuildLock(() => {
    if (isStale(example)) buildOrExplain(`examples/${example}`)
  })
}

/**
 * Builds packages (`tsc -b packages/postgres packages/amqp`, incremental: quick when nothing changed) for
 * tests that run them in a child process from their `dist`, under the same lock as the examples' builds.
 */
export function ensurePackagesBuilt(...packages: readonly string[]): void {
  withBuildLock(() => buildOrExplain(...packages.map((p) => `packages/${p}`)))
}

function buildOrExplain(...projects: readonly string[]): void {
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...projects],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    )
  } catch (err) {
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? ''
    throw new Error(`tsc -b ${projects.join(' ')} failed:\n${out}`, { cause: err })
  }
}

/** A port free on 127.0.0.1 right now (the OS picks it for a throw-away listener). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Whether something accepts TCP connections at the host and port of an `amqp://` URL. */
export function brokerReachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port === '' ? 5672 : port) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

function parse(line: string): LogLine {
  if (line.startsWith('{')) {
    try {
      const obj = JSON.parse(line) as Record<string, unknown>
      return { ...obj, msg: typeof obj.msg === 'string' ? obj.msg : '' }
    } catch {
      // not JSON after all
    }
  }
  return { msg: line }
}

/** Spawns `node examples/<name>/dist/main.js` with extra environment variables (`undefined` removes one). */
export function startExample(example: string, env: Record<string, string | undefined>): ExampleProcess {
  return startScript(join(ROOT, 'examples', example, 'dist', 'main.js'), [], env, example)
}

/** Spawns `node <script> ...args` (a test fixture) like `startExample`. */
export function startScript(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  example = script,
): ExampleProcess {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env }
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k]
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: LogLine[] = []
  const raw: string[] = []
  const waiters = new Set<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>()
  const onText = (partial: { rest: string }) => (chunk: Buffer) => {
    const text = partial.rest + chunk.toString('utf8')
    const parts = text.split('\n')
    partial.rest = parts.pop() ?? ''
    for (const part of parts) {
      if (part.trim() === '') continue
      raw.push(part)
      const line = parse(part)
      lines.push(line)
      for (const w of waiters) {
        if (!w.predicate(line)) continue
        waiters.delete(w)
        w.resolve(line)
      }
    }
  }
  child.stdout.on('data', onText({ rest: '' }))
  child.stderr.on('data', onText({ rest: '' }))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const output = () => raw.join('\n')

  return {
    child,
    lines,
    exited,
    output,
    waitForLine(predicate, timeoutMs = 10_000) {
      const found = lines.find(predicate)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise<LogLine>((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (l: LogLine) => {
            clearTimeout(timer)
            resolve(l)
          },
        }
        const fail = (why: string) => {
          if (!waiters.delete(waiter)) return
          reject(new Error(`${why}; ${example} printed:\n${output()}`))
        }
        const timer = setTimeout(() => fail(`no matching line within ${timeoutMs} ms`), timeoutMs)
        waiters.add(waiter)
        void exited.then(({ code, signal }) => {
          clearTimeout(timer)
          fail(`${example} exited (code ${code}, signal ${signal}) before printing a matching line`)
        })
      })
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}

/** The SPEC §4.1 summary line and the `Stopped <id> (…)` line of every route id given. */
export function shutdownLines(
  p: ExampleProcess,
  routeIds: readonly string[],
): {
  summary: LogLine | undefined
  stopped: string[]
} {
  const summary = p.lines.find((l) =>
    /^Graceful shutdown of \d+ routes completed in \d+\.\d{3} s$/.test(l.msg),
  )
  const stopped = routeIds.filter((id) => p.lines.some((l) => l.msg.startsWith(`Stopped ${id} (`)))
  return { summary, stopped }
}
