import { errors } from '../../errors.js'
import type { Exchange } from '../../exchange/exchange.js'
import { isDeepStrictEqual, inspect } from 'node:util'

/** Options of `assertIsSatisfied`. */
export interface AssertOptions {
  /** How long to wait for the expected messages. @default 5000 */
  timeoutMs?: number
}

/** A `mock:name` endpoint with expectations (SPEC §7). */
export interface MockEndpoint {
  /** Expects exactly `n` exchanges. */
  expectedMessageCount(n: number): MockEndpoint
  /** Expects these bodies, in order (deep equality). */
  expectedBodiesReceived(...bodies: unknown[]): MockEndpoint
  /** Resolves once the expectations hold; rejects with DROMEDARY_ERR_MOCK_NOT_SATISFIED saying what arrived. */
  assertIsSatisfied(options?: AssertOptions): Promise<void>
  readonly receivedExchanges: readonly Exchange[]
  /** Clears received exchanges and expectations. */
  reset(): void
}

/** @internal */
export class DefaultMockEndpoint implements MockEndpoint {
  readonly name: string
  #received: Exchange[] = []
  #count: number | undefined = undefined
  #bodies: unknown[] | undefined = undefined
  #waiters: Array<() => void> = []

  constructor(name: string) {
    this.name = name
  }

  get receivedExchanges(): readonly Exchange[] {
    return this.#received
  }

  receive(exchange: Exchange): void {
    // A copy of the envelope, as Camel's MockEndpoint keeps a copy: later steps that set headers or replace the
    // body do not change what arrived (a body mutated in place does — it is the same object).
    this.#received.push(envelopeCopy(exchange))
    const w = this.#waiters
    this.#waiters = []
    for (const f of w) f()
  }

  expectedMessageCount(n: number): this {
    this.#count = n
    return this
  }

  expectedBodiesReceived(...bodies: unknown[]): this {
    this.#bodies = bodies
    this.#count ??= bodies.length
    return this
  }

  async assertIsSatisfied(options: AssertOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 5000
    const target = this.#count ?? this.#bodies?.length ?? 0
    const deadline = Date.now() + timeoutMs
    while (this.#received.length < target) {
      const left = deadline - Date.now()
      if (left <= 0) break
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        timer = setTimeout(resolve, left)
      })
      clearTimeout(timer)
    }
    const problem = this.#check()
    if (problem !== undefined) throw errors.mockNotSatisfied(this.name, problem)
  }

  #check(): string | undefined {
    const got = this.#received.length
    if (this.#count !== undefined && got !== this.#count)
      return `expected ${this.#count} message(s) but received ${got}: ${inspect(this.#received.map((e) => e.message.body))}`
    if (this.#bodies !== undefined) {
      const bodies = this.#received.map((e) => e.message.body)
      for (let i = 0; i < this.#bodies.length; i++) {
        if (!isDeepStrictEqual(bodies[i], this.#bodies[i]))
          return `expected bodies ${inspect(this.#bodies)} but received ${inspect(bodies)} (first difference at index ${i})`
      }
    }
    return undefined
  }

  reset(): void {
    this.#received = []
    this.#count = undefined
    this.#bodies = undefined
  }
}

function envelopeCopy(ex: Exchange): Exchange {
  return {
    id: ex.id,
    fromRouteId: ex.fromRouteId,
    fromUri: ex.fromUri,
    createdAt: ex.createdAt,
    message: { body: ex.message.body, headers: { ...ex.message.headers } },
    properties: new Map(ex.properties),
    ...(ex.exception === undefined ? {} : { exception: ex.exception }),
    signal: ex.signal,
  }
}
