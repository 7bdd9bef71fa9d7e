// Starting amqp-worker fixtures and watching their ledgers.
import { join } from 'node:path'
import { App } from './child.mjs'
import { AMQP_URL } from './broker.mjs'
import { RUN_DIR } from './paths.mjs'
import { countLines, readLines, waitFor } from './util.mjs'

/**
 * Starts an amqp-worker app (or `params.fixture`, e.g. amqp-inbox-worker.mjs) on `queue` with its own ledger
 * file and waits until it is ready.
 */
export async function startWorker(queue, name, params = {}) {
  const ledger = join(RUN_DIR, `${queue}.${name}.${Date.now()}`)
  const { fixture = 'amqp-worker.mjs', ...rest } = params
  const all = { url: AMQP_URL, queue, name, ledger, ...rest }
  const app = new App(fixture, all, { name })
  await app.next('ready')
  return { app, ledger, params: all }
}

/** Every id processed by these workers, once per time it was processed. */
export function processedIds(workers) {
  return workers.flatMap((w) => readLines(w.ledger))
}

/** How many times these workers processed a message (lines in their ledgers). */
export function processedCount(workers) {
  return workers.reduce((n, w) => n + countLines(w.ledger), 0)
}

/** Waits until the workers processed `n` distinct ids; resolves false after `timeoutMs`. */
export function waitAllProcessed(workers, n, timeoutMs = 120_000) {
  return waitFor(() => new Set(processedIds(workers)).size >= n, { timeoutMs, intervalMs: 100 })
}

/** Stops a worker with SIGTERM and returns its `stopped` report and exit. */
export async function stopWorker(worker, timeoutMs = 60_000) {
  worker.app.signal('SIGTERM')
  const stopped = await worker.app.next('stopped', timeoutMs).catch(() => undefined)
  const exit = await worker.app.waitExit(timeoutMs)
  return { stopped, exit }
}
