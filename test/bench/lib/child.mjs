// Child processes for the benchmarks. Every sample runs in a fresh Node process, so one side's JIT state,
// heap and timers never leak into the other's measurement; load generators and servers run in separate
// processes from each other.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * A forked child that talks over IPC in `{ type, ... }` messages. `next(type)` waits for the next message of
 * that type; an `error` message or an early exit rejects every wait.
 */
export class Child {
  #proc
  #inbox = []
  #waiters = []
  #failure
  #exited

  /** `profile`: with BENCH_CPU_PROF=<dir> set, the child writes a --cpu-prof profile there (code under test). */
  constructor(script, params, { execArgv = [], profile = false } = {}) {
    const file = script instanceof URL ? fileURLToPath(script) : script
    const dir = process.env.BENCH_CPU_PROF
    const args = profile && dir ? [...execArgv, '--cpu-prof', `--cpu-prof-dir=${dir}`] : execArgv
    this.#proc = fork(file, [JSON.stringify(params)], {
      execArgv: args,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#proc.on('message', (m) => this.#deliver(m))
    // A send racing the child's own exit fails with EPIPE; the exit itself is reported through 'close'.
    this.#proc.on('error', (err) => this.#fail(err))
    // 'close' comes after the IPC channel has delivered everything the child sent before it exited.
    this.#exited = new Promise((resolve) => {
      this.#proc.on('close', (code, signal) => {
        this.#fail(new Error(`${file} exited with ${signal ?? `code ${code}`} before replying`))
        resolve(code)
      })
    })
  }

  get pid() {
    return this.#proc.pid
  }

  send(message) {
    this.#proc.send(message)
  }

  /** Resolves with the next message of `type`; rejects after `timeoutMs` or when the child fails. */
  next(type, timeoutMs = 120_000) {
    const i = this.#inbox.findIndex((m) => m.type === type)
    if (i !== -1) return Promise.resolve(this.#inbox.splice(i, 1)[0])
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for "${type}" from child ${this.pid}`))
      }, timeoutMs)
      const waiter = {
        type,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      }
      this.#waiters.push(waiter)
    })
  }

  /** Sends `message` and waits for the reply of type `replyType`. */
  async request(message, replyType, timeoutMs) {
    this.send(message)
    return this.next(replyType, timeoutMs)
  }

  /** Waits for the child to exit; kills it (by its own pid) if it does not within `graceMs`. */
  async close(graceMs = 10_000) {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return
    if (this.#proc.connected) this.#proc.send({ type: 'exit' }, () => undefined)
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), graceMs)
    await this.#exited
    clearTimeout(timer)
  }

  #deliver(m) {
    if (m?.type === 'error') return this.#fail(new Error(`child ${this.pid}: ${m.message}`))
    const i = this.#waiters.findIndex((w) => w.type === m?.type)
    if (i === -1) this.#inbox.push(m)
    else this.#waiters.splice(i, 1)[0].resolve(m)
  }

  #fail(err) {
    this.#failure ??= err
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.reject(err)
  }
}

/** Runs `script` once in a fresh process and resolves with the `result` message's value. */
export async function runOnce(script, params, options = {}) {
  const child = new Child(script, params, { profile: true, ...options })
  try {
    const { value } = await child.next('result', options.timeoutMs)
    return value
  } finally {
    await child.close()
  }
}

// --- inside a child ---------------------------------------------------------------------------------

// A child never outlives its runner (a server under test would otherwise keep listening).
if (process.send !== undefined) process.once('disconnect', () => process.exit(1))

/** The parameters the parent passed to this child. */
export function params() {
  return JSON.parse(process.argv[2] ?? '{}')
}

/** Reports `fn()`'s value as the child's result, or its failure as an `error` message, then exits. */
export async function reportResult(fn) {
  try {
    const value = await fn()
    await sendAsync({ type: 'result', value })
    process.exit(0)
  } catch (err) {
    await reportError(err)
  }
}

/** Reports a failure to the parent and exits non-zero. */
export async function reportError(err) {
  await sendAsync({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
  process.exit(1)
}

/** `process.send` as a promise, so the message is out before the process exits. */
export function sendAsync(message) {
  return new Promise((resolve, reject) => process.send(message, (err) => (err ? reject(err) : resolve())))
}

/** Resolves with the next IPC message of `type` from the parent. */
export function nextMessage(type) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m?.type !== type) return
      process.off('message', on)
      resolve(m)
    }
    process.on('message', on)
  })
}
