import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createContext } from '@dromedary/core'
import { beforeAll, describe, expect, it } from 'vitest'

const coreDir = fileURLToPath(new URL('../..', import.meta.url))
const fixture = fileURLToPath(new URL('../fixtures/run-fixture.mjs', import.meta.url))

/** A child running the fixture, with its stdout as lines and promises for a line and for the exit. */
interface Child {
  readonly proc: ChildProcess
  readonly lines: string[]
  /** Log messages (`msg` of pino's JSON lines). */
  messages(): string[]
  waitFor(predicate: (line: string) => boolean): Promise<void>
  readonly exited: Promise<number | null>
}

function startFixture(scenario: 'drain' | 'stuck'): Child {
  const proc = spawn(process.execPath, [fixture, scenario], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: () => void }> = []
  let buffered = ''
  proc.stdout.setEncoding('utf8')
  proc.stdout.on('data', (chunk: string) => {
    buffered += chunk
    const parts = buffered.split('\n')
    buffered = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      for (const w of waiters.splice(0)) {
        if (w.predicate(line)) w.resolve()
        else waiters.push(w)
      }
    }
  })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return {
    proc,
    lines,
    messages: () => lines.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg),
    waitFor: (predicate) =>
      lines.some(predicate)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ predicate, resolve })
            void exited.then(() => reject(new Error(`exited before the line; stdout:\n${lines.join('\n')}`)))
          }),
    exited,
  }
}

beforeAll(() => {
  // The fixture imports the built package; `pnpm test` builds first, this covers a bare vitest run.
  const built = spawnSync('pnpm', ['exec', 'tsc', '-b', coreDir], { encoding: 'utf8' })
  if (!existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url))))
    throw new Error(`could not build @dromedary/core: ${built.stdout}${built.stderr}`)
}, 60_000)

describe('run() in a child process', () => {
  it('drains on SIGTERM and exits 0 after logging the shutdown', async () => {
    const child = startFixture('drain')
    await child.waitFor((l) => l === 'READY')
    child.proc.kill('SIGTERM')
    expect(await child.exited).toBe(0)
    const messages = child.messages()
    expect(messages).toEqual(
      expect.arrayContaining([
        'Received SIGTERM: starting graceful shutdown (send it again to force)',
        'Waiting as there are still 3 inflight and pending exchanges to complete, timeout in 300 seconds. Inflights per route: [work = 3]',
        'Stopped work (seda://work)',
      ]),
    )
    expect(messages.some((m) => /^Graceful shutdown of 1 routes completed in \d+\.\d{3} s$/.test(m))).toBe(
      true,
    )
    // Every in-flight exchange finished before the context reported itself stopped.
    const done = child.lines.filter((l) => l.startsWith('DONE'))
    expect(done.sort()).toEqual(['DONE 1', 'DONE 2', 'DONE 3'])
    const lastDone = child.lines.findLastIndex((l) => l.startsWith('DONE'))
    expect(child.lines.findIndex((l) => l.includes('Graceful shutdown of'))).toBeGreaterThan(lastDone)
  })

  it('forces on a second SIGTERM while an exchange is stuck and exits 1 quickly', async () => {
    const child = startFixture('stuck')
    await child.waitFor((l) => l === 'READY')
    child.proc.kill('SIGTERM')
    await child.waitFor((l) => l.includes('Waiting as there are still 1 inflight'))
    const secondSignal = performance.now()
    child.proc.kill('SIGTERM')
    expect(await child.exited).toBe(1)
    expect(performance.now() - secondSignal).toBeLessThan(3000)
    expect(child.messages()).toEqual(
      expect.arrayContaining([
        'Received SIGTERM (second signal): forcing shutdown now',
        'Forced shutdown requested while draining: forcing the remaining routes now',
        'Forced stopped work (seda://work)',
      ]),
    )
  })
})

describe('run() in process', () => {
  it('removes its signal handlers once stopped and resolves with the report when exit is false', async () => {
    const ctx = createContext({ logger: false, metrics: false })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').to('mock:a'))
    const before = process.listenerCount('SIGUSR2')
    const running = ctx.run({ signals: ['SIGUSR2'], exit: false })
    await new Promise<void>((resolve) =>
      ctx.events$.subscribe((e) => {
        if (e.type === 'context-started') resolve()
      }),
    )
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    process.emit('SIGUSR2', 'SIGUSR2')
    const report = await running
    expect(report).toMatchObject({ graceful: true, forced: false })
    expect(await ctx.whenStopped()).toBe(report)
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })

  it('logs which signal started the shutdown', async () => {
    const infos: string[] = []
    const ctx = createContext({
      metrics: false,
      logger: {
        debug() {},
        info: (_o: unknown, m?: string) => void infos.push(m ?? ''),
        warn() {},
        error() {},
      },
    })
    const running = ctx.run({ signals: ['SIGUSR2'], exit: false })
    await new Promise<void>((resolve) =>
      ctx.events$.subscribe((e) => {
        if (e.type === 'context-started') resolve()
      }),
    )
    process.emit('SIGUSR2', 'SIGUSR2')
    await running
    expect(infos).toContain('Running: SIGUSR2 stops it gracefully, a second one forces')
    expect(infos.filter((m) => !m.startsWith('Running: '))[0]).toBe(
      'Received SIGUSR2: starting graceful shutdown (send it again to force)',
    )
  })
})
