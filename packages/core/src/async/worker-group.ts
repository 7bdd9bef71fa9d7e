import { errors } from '../errors.js'

/** One worker group of `workerGroups` (Kamailio `async_workers_group`). */
export interface WorkerGroupOptions {
  /** Tasks that may run at once (required). */
  workers: number
  /** Tasks that may wait for a worker; a full queue fails the exchange with DROMEDARY_ERR_QUEUE_FULL. @default 10000 */
  queueSize?: number
}

/** A task queued on a worker group; `owner` counts it as pending while queued. @internal */
export interface WorkerTask {
  run(): void | Promise<void>
  /**
   * Called when the task leaves the queue without running (forced stop). Returns true when that aborted
   * work not counted as aborted before (a dropped `asyncTaskData`, an `asyncTask` exchange not yet aborted).
   */
  drop(reason: string): boolean
  readonly owner: PendingOwner
  /**
   * True when the task carries an exchange already tracked in flight by its owner (`asyncTask`): while
   * queued it counts as pending instead of in flight, so nothing is counted twice.
   */
  readonly tracked: boolean
  /** Set by the group: the task left the queue (started, dropped or cancelled). */
  done?: boolean
}

/** Whoever counts a queued task as pending (its route). @internal */
export interface PendingOwner {
  /** Tasks of this owner waiting in a worker queue. */
  asyncPending: number
  /** Of those, the ones whose exchange is tracked in flight (`asyncTask`); subtracted from in flight. */
  asyncQueuedInflight: number
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
  #waiting = 0

  constructor(name: string, options: WorkerGroupOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw errors.invalidContextOption(`workerGroups.${name}.workers`, options.workers, 'an integer >= 1')
    const queueSize = options.queueSize ?? 10_000
    if (!Number.isInteger(queueSize) || queueSize < 0)
      throw errors.invalidContextOption(`workerGroups.${name}.queueSize`, queueSize, 'an integer >= 0')
    this.name = name
    this.workers = options.workers
    this.queueSize = queueSize
  }

  /** Tasks waiting for a worker (not counting cancelled ones still in the array). */
  get queued(): number {
    return this.#waiting
  }

  /**
   * Runs the task now if a worker is free (false), else queues it (true); throws when the queue is full or
   * the group closed.
   */
  submit(task: WorkerTask): boolean {
    if (this.#closed) throw errors.shuttingDown(`task for worker group "${this.name}"`)
    if (this.busy < this.workers) {
      this.#start(task)
      return false
    }
    if (this.queued >= this.queueSize) throw errors.queueFull(`worker group ${this.name}`, this.queueSize)
    task.owner.asyncPending++
    if (task.tracked) task.owner.asyncQueuedInflight++
    this.#waiting++
    this.#queue.push(task)
    return true
  }

  /** Rejects new tasks (after NOW). */
  close(): void {
    this.#closed = true
  }

  /**
   * Drops the queued tasks (of `owner` only, when given) at a forced stop; returns how many were dropped
   * and how many of them newly aborted work (see `WorkerTask.drop`).
   */
  dropQueued(reason: string, owner?: PendingOwner): { dropped: number; aborted: number } {
    const queued = this.#queue.slice(this.#head)
    const dropped = owner === undefined ? queued : queued.filter((t) => t.owner === owner)
    this.#queue = owner === undefined ? [] : queued.filter((t) => t.owner !== owner)
    this.#head = 0
    let aborted = 0
    let n = 0
    for (const t of dropped) {
      if (t.done === true) continue
      n++
      if (this.#leave(t, reason)) aborted++
    }
    return { dropped: n, aborted }
  }

  /** Takes a still-queued task out of the queue (its exchange was aborted); false when it already left. */
  cancel(task: WorkerTask, reason: string): boolean {
    if (task.done === true) return false
    this.#leave(task, reason)
    return true
  }

  #leave(t: WorkerTask, reason: string): boolean {
    t.done = true
    this.#waiting--
    t.owner.asyncPending--
    if (t.tracked) t.owner.asyncQueuedInflight--
    const aborted = t.drop(reason)
    t.owner.notifyPending()
    return aborted
  }

  #start(task: WorkerTask): void {
    this.busy++
    let r: void | Promise<void>
    try {
      r = task.run()
    } catch {
      r = undefined
    }
    if (r === undefined) this.busy--
    else r.then(this.#onDone, this.#onDone)
  }

  readonly #onDone = (): void => {
    this.busy--
    this.#drain()
  }

  // A loop, not recursion: a long run of tasks that finish synchronously must not grow the stack.
  #drain(): void {
    while (this.busy < this.workers && this.#head < this.#queue.length) {
      const task = this.#queue[this.#head]!
      this.#queue[this.#head++] = undefined as never
      if (this.#head === this.#queue.length) {
        this.#queue = []
        this.#head = 0
      } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
      // Cancelled while queued: already taken out of pending by `cancel`.
      if (task.done === true) continue
      task.done = true
      this.#waiting--
      // Counted in flight by `run` before it leaves pending, so the drain never sees a false zero.
      this.#start(task)
      task.owner.asyncPending--
      if (task.tracked) task.owner.asyncQueuedInflight--
      task.owner.notifyPending()
    }
  }
}
