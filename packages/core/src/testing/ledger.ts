import type { Exchange } from '../exchange/exchange.js'

/** Where the fed messages ended up, as a check compares it with the contract. @internal */
export interface Ledger {
  /** Fed, but neither completed nor returned to the source or sender. */
  readonly lost: string[]
  /** Completed more than once. */
  readonly duplicated: string[]
  /** Completed and also returned (it will be consumed again). */
  readonly completedAndReturned: string[]
  /** Completed or returned, but never fed. */
  readonly unexpected: string[]
}

/** Balances what was fed against what was completed and what went back. @internal */
export function balance(
  fed: readonly string[],
  completed: readonly string[],
  returned: readonly string[],
): Ledger {
  const fedSet = new Set(fed)
  const done = new Set<string>()
  const duplicated = new Set<string>()
  for (const id of completed) (done.has(id) ? duplicated : done).add(id)
  const back = new Set(returned)
  return {
    lost: fed.filter((id) => !done.has(id) && !back.has(id)),
    duplicated: [...duplicated],
    completedAndReturned: [...done].filter((id) => back.has(id)),
    unexpected: [...new Set([...done, ...back])].filter((id) => !fedSet.has(id)),
  }
}

/** A ledger with nothing lost, duplicated or unexpected. @internal */
export const CLEAN: Ledger = { lost: [], duplicated: [], completedAndReturned: [], unexpected: [] }

/**
 * The default `idOf`: a string body, or the `id` of an object body (a Buffer or byte array is parsed as JSON
 * first). Fails with a clear message otherwise, so a subject learns it needs its own `idOf`.
 * @internal
 */
export function idFromBody(exchange: Exchange): string {
  let body = exchange.message.body
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) body = JSON.parse(Buffer.from(body).toString('utf8')) as unknown
  const id = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined
  if (typeof id === 'string') return id
  throw new Error(
    `The conformance kit cannot read the message id from a ${typeof body} body; give the fixture an idOf(exchange)`,
  )
}
