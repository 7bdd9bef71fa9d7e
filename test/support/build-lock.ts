// One build at a time: test files run in parallel processes, and two `tsc -b` writing the same outputs (or a
// `pnpm pack` reading them meanwhile) would race. The lock is a directory, created atomically.
import { mkdirSync, rmdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Runs `fn` holding the workspace's build lock; waits up to `waitMs` for another holder to finish. */
export function withBuildLock<T>(fn: () => T, waitMs = 120_000): T {
  const cache = join(ROOT, 'node_modules', '.cache')
  mkdirSync(cache, { recursive: true })
  const lock = join(cache, 'build.lock')
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for the build lock ${lock} (remove it if no build is running)`)
      sleepSync(100)
    }
  }
  try {
    return fn()
  } finally {
    rmdirSync(lock)
  }
}
