/** Number and time formats of the console. */

/** An integer count, or an en dash when unknown. */
export function count(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en')
}

/** A rate per second with sensible precision. */
export function rate(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–'
  return n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(n >= 10 ? 1 : 2)
}

/** A duration given in seconds: µs, ms or s. */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–'
  if (s < 0.001) return `${Math.round(s * 1e6)} µs`
  if (s < 1) return `${(s * 1000).toPrecision(3)} ms`
  return `${s.toPrecision(3)} s`
}

/** A duration given in milliseconds. */
export function millis(ms: number): string {
  return seconds(ms / 1000)
}

/** An offset from the start of a shutdown, `+1.234 s`. */
export function offset(ms: number): string {
  return `+${(Math.max(0, ms) / 1000).toFixed(3)} s`
}
