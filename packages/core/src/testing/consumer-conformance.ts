import { lifecycleChecks } from './consumer-lifecycle-checks.js'
import { shutdownChecks, type ConsumerCheck } from './consumer-shutdown-checks.js'
import { Asserts, type ConformanceRunner } from './runner.js'
import { ConsumerScope } from './scope.js'
import type { ConsumerSubject } from './subject.js'

const CHECKS: readonly ConsumerCheck[] = [...shutdownChecks, ...lifecycleChecks]

/** The checks that apply to `subject` (by its capabilities), as the test names `describeConsumerConformance` registers. */
export function consumerConformanceChecks(subject: ConsumerSubject): string[] {
  return CHECKS.filter((c) => c.applies(subject.capabilities)).map((c) => c.title)
}

/**
 * Registers the consumer conformance suite for `subject` with the caller's test runner: one test per check of
 * the consumer SPI contract that applies to it, each on a fresh fixture and its own contexts.
 * @example describeConsumerConformance({ describe, it, expect }, mySubject)
 */
export function describeConsumerConformance(runner: ConformanceRunner, subject: ConsumerSubject): void {
  runner.describe(`${subject.name} consumer conformance`, () => {
    for (const check of CHECKS) {
      if (!check.applies(subject.capabilities)) continue
      runner.it(check.title, async () => {
        const scope = new ConsumerScope(subject, await subject.setup(), new Asserts(runner.expect))
        let failure: unknown
        try {
          await check.run(scope)
        } catch (err) {
          failure = err
          throw err
        } finally {
          // A cleanup error must not hide the check's own failure.
          await scope.close().catch((err: unknown) => {
            if (failure === undefined) throw err
          })
        }
      })
    }
  })
}
