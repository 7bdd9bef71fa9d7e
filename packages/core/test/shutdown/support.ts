import type { Exchange, Logger } from '@dromedary/core'

/** One captured log call. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly msg: string
  readonly obj: unknown
}

/** A logger object that records every line, for asserting exact wording. */
export interface CapturingLogger extends Logger {
  readonly lines: LogLine[]
  /** Messages, optionally of one level only. */
  messages(level?: LogLine['level']): string[]
  /** Messages that start with `prefix`. */
  matching(prefix: string): string[]
}

export function captureLogger(): CapturingLogger {
  const lines: LogLine[] = []
  const at =
    (level: LogLine['level']) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, msg: msg ?? (typeof obj === 'string' ? obj : ''), obj })
    }
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    messages: (level) => lines.filter((l) => level === undefined || l.level === level).map((l) => l.msg),
    matching: (prefix) => lines.filter((l) => l.msg.startsWith(prefix)).map((l) => l.msg),
  }
}

/** A promise with its resolve function exposed. */
export interface Gate<T = void> {
  readonly promise: Promise<T>
  open(value: T): void
}

export function gate<T = void>(): Gate<T> {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => (open = resolve))
  return { promise, open }
}

/** Rejects with the signal's reason when the exchange is aborted: a well-behaved stuck step. */
export function untilAborted(ex: Exchange): Promise<never> {
  return new Promise<never>((_, reject) => {
    const signal = ex.signal
    if (signal.aborted) reject(signal.reason as Error)
    else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
  })
}

/** Waits `ms` (fake or real timers) but stops waiting, rejecting, when the exchange is aborted. */
export function abortableSleep(ex: Exchange, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const signal = ex.signal
    if (signal.aborted) return reject(signal.reason as Error)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Lets queued microtasks (seda dispatch) run. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}

/** Tracks whether a promise has settled, for asserting "not yet" under fake timers. */
export function track<T>(p: Promise<T>): { readonly settled: boolean; readonly value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined }
  p.then(
    (v) => {
      state.settled = true
      state.value = v
    },
    () => {
      state.settled = true
    },
  )
  return state
}

export const PROGRESS_PREFIX = 'Waiting as there are still '
export const FORCE_WARNING =
  'Timeout occurred during graceful shutdown. Forcing the routes to be shutdown now. Notice: some resources may still be running as graceful shutdown did not complete successfully.'
export const IGNORE_WARNING =
  'Timeout occurred during graceful shutdown. Will ignore shutting down the remainder routes. Notice: some resources may still be running as graceful shutdown did not complete successfully.'

/** The exact §4.1 progress line. */
export function progressLine(total: number, seconds: number, perRoute: Record<string, number>): string {
  const list = Object.entries(perRoute)
    .map(([id, n]) => `${id} = ${n}`)
    .join(', ')
  return `Waiting as there are still ${total} inflight and pending exchanges to complete, timeout in ${seconds} seconds. Inflights per route: [${list}]`
}
