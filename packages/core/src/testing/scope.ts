import type { ShutdownRunningTask } from '../spi/component.js'
import { ConsumerHarness, timingsOf, type Timings } from './harness.js'
import { balance, CLEAN } from './ledger.js'
import type { Asserts } from './runner.js'
import type { ConsumerFixture, ConsumerSubject } from './subject.js'

/**
 * What one consumer check works with: the subject, a fresh fixture, the contexts it opened (all force-stopped
 * afterwards), and the accounting every check ends with.
 * @internal
 */
export class ConsumerScope {
  readonly subject: ConsumerSubject
  readonly fixture: ConsumerFixture
  readonly t: Timings
  readonly is: Asserts
  /** Messages per feed. */
  readonly n: number
  readonly #harnesses: ConsumerHarness[] = []

  constructor(subject: ConsumerSubject, fixture: ConsumerFixture, is: Asserts) {
    this.subject = subject
    this.fixture = fixture
    this.t = timingsOf(subject.timings)
    this.is = is
    this.n = subject.messages ?? 6
  }

  get concurrency(): number {
    return this.subject.capabilities.concurrency
  }

  /** Starts a context consuming the fixture's URI. */
  async open(task?: ShutdownRunningTask): Promise<ConsumerHarness> {
    const h = await ConsumerHarness.start(this.fixture, this.t, task)
    this.#harnesses.push(h)
    return h
  }

  /** Opens a context, feeds `n` messages labelled `label` and holds them as `feedAndHold` does. */
  async openHolding(label: string, task?: ShutdownRunningTask): Promise<ConsumerHarness> {
    const h = await this.open(task)
    await h.feedAndHold(this.ids(label), this.concurrency)
    return h
  }

  /** Stops the context gracefully and checks that every fed message was completed once or returned. */
  async finish(h: ConsumerHarness, what: string): Promise<void> {
    await h.ctx.stop({ timeoutMs: this.t.stopTimeoutMs })
    this.exact(h.fed, h.probe.completed, await this.returned(), what)
  }

  /** `n` ids named after what the check does with them. */
  ids(label: string, n = this.n): string[] {
    return Array.from({ length: n }, (_, i) => `${label}-${i}`)
  }

  /** Ids that went back to the source or sender (call once every context stopped). */
  async returned(): Promise<readonly string[]> {
    return (await this.fixture.drainSource?.()) ?? []
  }

  /** Fed = completed + returned, each exactly once. */
  exact(
    fed: readonly string[],
    completed: readonly string[],
    returned: readonly string[],
    what: string,
  ): void {
    this.is.equal(
      balance(fed, completed, returned),
      CLEAN,
      `${what}: every fed message is completed once or returned, never both, never lost`,
    )
  }

  /** Runs after the check: force-stops what it left running, then releases the fixture. */
  async close(): Promise<void> {
    const errors: unknown[] = []
    for (const h of this.#harnesses.splice(0)) await h.dispose().catch((err: unknown) => errors.push(err))
    await Promise.resolve(this.fixture.teardown?.()).catch((err: unknown) => errors.push(err))
    if (errors.length > 0) throw new AggregateError(errors, 'Cleaning up after a conformance check failed')
  }
}
