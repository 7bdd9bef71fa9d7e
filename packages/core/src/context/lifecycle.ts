import { errors } from '../errors.js'

/** Status of a context. */
export type ContextStatus = 'created' | 'starting' | 'started' | 'stopping' | 'stopped'

// Every allowed transition, in one place.
const TRANSITIONS: Readonly<Record<ContextStatus, readonly ContextStatus[]>> = {
  created: ['starting', 'stopping'],
  starting: ['started', 'stopping', 'stopped'],
  started: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
}

/** The context's state machine. @internal */
export class Lifecycle {
  #status: ContextStatus = 'created'

  get status(): ContextStatus {
    return this.#status
  }

  to(next: ContextStatus): void {
    if (!TRANSITIONS[this.#status].includes(next))
      throw errors.invalidState('the context', this.#status, next)
    this.#status = next
  }

  /** Throws DROMEDARY_ERR_ALREADY_STARTED unless still `created`. */
  assertConfigurable(what: string): void {
    if (this.#status !== 'created') throw errors.alreadyStarted(what)
  }
}
