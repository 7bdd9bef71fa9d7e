// Accounting: every message carries a unique id; apps append the ids they processed to ledger files; what
// is still in the queue at the end is drained. From those: lost (sent, never processed, not in the queue) and
// duplicated (processed more than once, or processed and still in the queue, which means it would run again).
import { tally } from './util.mjs'

/**
 * `sent`: ids sent; `processed`: every processed id, one entry per time it was processed (from all
 * ledgers); `remaining`: ids drained from the queue at the end.
 */
export function account({ sent, processed, remaining = [] }) {
  const sentSet = new Set(sent)
  const times = tally(processed)
  const left = tally(remaining)
  let lost = 0
  const lostIds = []
  for (const id of sentSet) {
    if (!times.has(id) && !left.has(id)) {
      lost++
      if (lostIds.length < 5) lostIds.push(id)
    }
  }
  let duplicated = 0
  const duplicatedIds = []
  for (const [id, n] of times) {
    const extra = n - 1 + (left.get(id) ?? 0)
    if (extra > 0) {
      duplicated += extra
      if (duplicatedIds.length < 5) duplicatedIds.push(id)
    }
  }
  for (const [id, n] of left) if (!times.has(id) && n > 1) duplicated += n - 1
  const unknown = [...times.keys(), ...left.keys()].filter((id) => !sentSet.has(id)).length
  return {
    sent: sentSet.size,
    processed: [...times.keys()].filter((id) => sentSet.has(id)).length,
    remaining: [...left.keys()].filter((id) => !times.has(id)).length,
    lost,
    duplicated,
    lostIds,
    duplicatedIds,
    unknown,
  }
}

/** Sums the per-trial accounts of one scenario. */
export function sumAccounts(accounts) {
  const total = {
    sent: 0,
    processed: 0,
    remaining: 0,
    lost: 0,
    duplicated: 0,
    unknown: 0,
    lostIds: [],
    duplicatedIds: [],
  }
  for (const a of accounts) {
    for (const k of ['sent', 'processed', 'remaining', 'lost', 'duplicated', 'unknown']) total[k] += a[k]
    total.lostIds.push(...a.lostIds)
    total.duplicatedIds.push(...a.duplicatedIds)
  }
  total.lostIds = total.lostIds.slice(0, 5)
  total.duplicatedIds = total.duplicatedIds.slice(0, 5)
  return total
}
