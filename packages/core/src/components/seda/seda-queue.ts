import type { Context } from '@opentelemetry/api'

/** A message waiting in a seda queue. @internal */
export interface QueuedMessage {
  readonly body: unknown
  readonly headers: Record<string, unknown>
  /** The sender's trace context (its producer span), while tracing is on: the consumer's span is its child. */
  readonly trace: Context | undefined
  /**
   * With `waitForTaskToComplete=always`: told when the consumer's exchange ended (`err` its exception) or
   * the message was dropped or aborted (`aborted`), so the waiting sender completes, fails or is aborted.
   */
  readonly done: ((err: unknown, aborted: boolean) => void) | undefined
  /** Set when its waiting sender was aborted before a consumer took it: it is skipped, not run. */
  cancelled?: boolean
}

/** An array-backed FIFO with O(1) shift (head index, compacted now and then). @internal */
export class Fifo<T> {
  #items: Array<T | undefined> = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head++] = undefined
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  clear(): T[] {
    const rest = this.#items.slice(this.#head) as T[]
    this.#items = []
    this.#head = 0
    return rest
  }
}
