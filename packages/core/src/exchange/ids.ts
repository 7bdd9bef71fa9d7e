import { randomBytes } from 'node:crypto'

// A process-unique prefix plus a counter: unique, sortable within a process, and free of per-exchange
// randomness (a UUID per exchange costs more than the rest of a sync route).
const prefix = randomBytes(4).toString('hex')
let counter = 0

/** The number of the next exchange; `exchangeId` makes its id. */
export function nextExchangeSeq(): number {
  return ++counter
}

/** The id of exchange number `seq`, e.g. `3f9a1c2b-42`. */
export function exchangeId(seq: number): string {
  return `${prefix}-${seq}`
}
