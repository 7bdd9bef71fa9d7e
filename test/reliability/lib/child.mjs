// App processes under test. Each fixture runs in its own Node process (forked with an IPC channel); its
// stdout and stderr go to a log file, so a failing scenario can point at what the app said.
import { fork } from 'node:child_process'
import { mkdirSync, openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LOG_DIR } from './paths.mjs'

const FIXTURES = new URL('../fixtures/', import.meta.url)
const live = new Set()

/**
 * A forked fixture. `next(type)` waits for its next IPC message of that type; `exited` resolves with
 * `{ code, signal }`. Only this object's own pid is ever signalled.
 */
export class App {
  #proc
  #inbox = []
  #waiters = []
  #exit

  constructor(fixture, params, { name = fixture, execArgv = [] } = {}) {
    mkdirSync(LOG_DIR, { recursive: true })
    this.logFile = join(LOG_DIR, `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.log`)
    const fd = openSync(this.logFile, 'a')
    this.#proc = fork(fileURLToPath(new URL(fixture, FIXTURES)), [JSON.stringify(params)], {
      execArgv,
      stdio: ['ignore', fd, fd, 'ipc'],
    })
    closeSync(fd)
    live.add(this)
    this.#proc.on('message', (m) => this.#deliver(m))
    this.#proc.on('error', () => undefined)
    this.exited = new Promise((resolve) => {
      this.#proc.on('exit', (code, signal) => {
        this.#exit = { code, signal }
        live.delete(this)
        for (const w of this.#waiters.splice(0))
          w.reject(
            new Error(
              `${fixture} (pid ${this.pid}) exited with ${signal ?? `code ${code}`}; see ${this.logFile}`,
            ),
          )
        resolve(this.#exit)
      })
    })
  }

  get pid() {
    return this.#proc.pid
  }

  get running() {
    return this.#exit === undefined
  }

  send(message) {
    if (this.#proc.connected) this.#proc.send(message)
  }

  signal(sig) {
    if (this.running) this.#proc.kill(sig)
  }

  /** Resolves with the next message of `type`; rejects after `timeoutMs` or if the process exits first. */
  next(type, timeoutMs = 60_000) {
    const i = this.#inbox.findIndex((m) => m.type === type)
    if (i !== -1) return Promise.resolve(this.#inbox.splice(i, 1)[0])
    if (!this.running) return Promise.reject(new Error(`${this.pid} already exited; see ${this.logFile}`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for "${type}" from ${this.pid}; see ${this.logFile}`,
          ),
        )
      }, timeoutMs)
      const waiter = {
        type,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      }
      this.#waiters.push(waiter)
    })
  }

  async request(message, replyType, timeoutMs) {
    this.send(message)
    return this.next(replyType, timeoutMs)
  }

  /** Sends SIGTERM and waits for the exit; SIGKILLs it if it is still there after `graceMs`. */
  async terminate(graceMs = 30_000) {
    if (!this.running) return this.#exit
    this.signal('SIGTERM')
    return this.#awaitExit(graceMs)
  }

  /** Waits for the exit; SIGKILLs it if it is still there after `graceMs`. */
  async waitExit(graceMs = 30_000) {
    return this.#awaitExit(graceMs)
  }

  /** SIGKILL and wait. */
  async kill() {
    if (!this.running) return this.#exit
    this.signal('SIGKILL')
    return this.exited
  }

  async #awaitExit(graceMs) {
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs)
    const exit = await this.exited
    clearTimeout(timer)
    return exit
  }

  #deliver(m) {
    const i = this.#waiters.findIndex((w) => w.type === m?.type)
    if (i === -1) this.#inbox.push(m)
    else this.#waiters.splice(i, 1)[0].resolve(m)
  }
}

/** Kills every fixture process this runner started that is still running (used after a scenario). */
export async function killLeftovers() {
  const left = [...live]
  await Promise.all(left.map((app) => app.kill()))
  return left.length
}
