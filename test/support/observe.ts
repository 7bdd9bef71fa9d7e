/**
 * Observing a context in tests: a logger that records every line and can wait for one, counter values from
 * the context's registry, and a deferred promise.
 */
import type { IntegrationContext, Logger } from '@dromedary/core'

/** One log call as captured. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  obj: unknown
  msg: string
}

/** A logger that records every call and can wait for a line matching a predicate. */
export function captureLogger(): Logger & {
  lines: LogLine[]
  waitFor(match: (l: LogLine) => boolean): Promise<LogLine>
} {
  const lines: LogLine[] = []
  const waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = []
  const record = (level: LogLine['level']) => (obj: unknown, msg?: string) => {
    const line = { level, obj, msg: msg ?? '' }
    lines.push(line)
    for (const w of [...waiters]) {
      if (!w.match(line)) continue
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(line)
    }
  }
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    waitFor(match) {
      const found = lines.find(match)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ match, resolve }))
    },
  }
}

/** The value of one series of a counter in the context's registry. */
export async function counter(
  ctx: IntegrationContext,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = ctx.metrics?.getSingleMetric(name)
  if (metric === undefined) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  const series = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))
  return series?.value ?? Number.NaN
}

/** A promise with its resolve function, for "resolve when the n-th message arrives". */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
