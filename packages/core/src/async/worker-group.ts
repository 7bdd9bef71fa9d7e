import { errors } from '../errors.js'

/** One worker group of `workerGroups` (Kamailio `async_workers_group`). */
export interface WorkerGroupOptions {
  /** Tasks that may run at once. @default 1 */
  workers: number
  /** Tasks that may wait for a worker; a full queue fails the exchange with DROMEDARY_ERR_QUEUE_FULL. @default 10000 */
  queueSize?: number
}

/** A task queued on a worker group; `owner` counts it as pending while queued. @internal */
export interface WorkerTask {
  run(): void | Promise<void>
  /** Called when the task leaves the queue without running (forced stop). */
  drop(reason: string): void
  readonly owner: PendingOwner
}

/** Whoever counts a queued task as pending (its route). @internal */
export interface PendingOwner {
  asyncPending: number
  notifyPending(): void
}

/** A bounded in-process pool: at most `workers` tasks run at once, the rest wait in FIFO order. @internal */
export class WorkerGroup {
  readonly name: string
  readonly workers: number
  readonly queueSize: number
  busy = 0
  #queue: WorkerTask[] = []
  #head = 0
  #closed = false

  constructor(name: string, options: WorkerGroupOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw errors.invalidRoute(
        `(worker group ${name})`,
        `workers must be an integer >= 1, got ${options.workers}`,
      )
    this.name = name
    this.workers = options.workers
    this.queueSize = options.queueSize ?? 10_000
  }

  get queued(): number {
    return this.#queue.length - this.#head
  }

  /** Runs the task now if a worker is free, else queues it; throws when the queue is full or closed. */
  submit(task: WorkerTask): void {
    if (this.#closed) throw errors.shuttingDown(`task for worker group "${this.name}"`)
    if (this.busy < this.workers) return this.#start(task)
    if (this.queued >= this.queueSize) throw errors.queueFull(`worker group ${this.name}`, this.queueSize)
    task.owner.asyncPending++
    this.#queue.push(task)
  }

  /** Rejects new tasks (after NOW). */
  close(): void {
    this.#closed = true
  }

  /** Drops every queued task (forced stop); returns how many. */
  dropQueued(reason: string): number {
    const dropped = this.#queue.slice(this.#head)
    this.#queue = []
    this.#head = 0
    for (const t of dropped) {
      t.owner.asyncPending--
      t.drop(reason)
      t.owner.notifyPending()
    }
    return dropped.length
  }

  #start(task: WorkerTask): void {
    this.busy++
    let r: void | Promise<void>
    try {
      r = task.run()
    } catch {
      r = undefined
    }
    if (r === undefined) this.#next()
    else r.then(this.#onDone, this.#onDone)
  }

  readonly #onDone = (): void => this.#next()

  #next(): void {
    this.busy--
    if (this.#head >= this.#queue.length) return
    const task = this.#queue[this.#head]!
    this.#queue[this.#head++] = undefined as never
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    // Counted in flight by `run` before it leaves pending, so the drain never sees a false zero.
    this.#start(task)
    task.owner.asyncPending--
    task.owner.notifyPending()
  }
}
