// Small statistics helpers shared by the runner and the children.

/** The median of a non-empty list of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** The `p`-th percentile (0–100) by the nearest-rank method: the smallest value with p% at or below it. */
export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * s.length))
  return s[rank - 1]
}

/** Rounds to `digits` significant digits, for the table and the JSON (the raw samples keep full precision). */
export function round(value, digits = 4) {
  if (value === null || !Number.isFinite(value) || value === 0) return value
  return Number(value.toPrecision(digits))
}
