// Small helpers shared by the scenarios.
import { readFileSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `predicate` every `intervalMs` until it is true; resolves false after `timeoutMs`. */
export async function waitFor(predicate, { timeoutMs = 30_000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return true
    if (Date.now() >= deadline) return false
    await sleep(intervalMs)
  }
}

/** A uniformly random integer in [min, max]. */
export function randomInt(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1))
}

/** `n` ids `prefix-0`, `prefix-1`, … */
export function makeIds(prefix, n) {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
}

/** The lines of a ledger file the fixtures append processed ids to (missing file = none). */
export function readLines(file) {
  if (!existsSync(file)) return []
  const text = readFileSync(file, 'utf8')
  return text === '' ? [] : text.split('\n').filter((l) => l !== '')
}

/** Counts the lines of a ledger file without splitting it. */
export function countLines(file) {
  if (!existsSync(file)) return 0
  const buf = readFileSync(file)
  let n = 0
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) n++
  return n
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Counts of each value in an array. */
export function tally(values) {
  const m = new Map()
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
  return m
}
