import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  consumerConformanceChecks,
  describeConsumerConformance,
  type ConsumerSubject,
} from '@dromedary/core/testing'
import { MemoryBroker, memoryQueueComponent, type MemoryQueueFaults } from './memory-queue.js'
import { directSubject, sedaSubject, timerSubject } from './subjects.js'

const broker = new MemoryBroker()

function memoryQueue(faults: MemoryQueueFaults): ConsumerSubject {
  return {
    name: 'mq',
    capabilities: { handsBack: true, canSuspend: true, concurrency: 1, durable: true },
    timings: { waitMs: 1000 },
    setup() {
      const queue = `kit-${randomUUID()}`
      return {
        uri: `mq:${queue}?prefetch=3`,
        components: () => ({ mq: memoryQueueComponent(broker, faults) }),
        feed: (_ctx, ids) => Promise.resolve(broker.publish(queue, ids)),
        atSource: () => broker.ready(queue),
        drainSource: () => Promise.resolve(broker.drain(queue)),
      }
    },
  }
}

/** The checks as a runner would get them, without `expect`: the kit then asserts with node:assert. */
function checksOf(subject: ConsumerSubject): Map<string, () => Promise<void>> {
  const checks = new Map<string, () => Promise<void>>()
  describeConsumerConformance(
    { describe: (_name, fn) => fn(), it: (name, fn) => void checks.set(name, fn) },
    subject,
  )
  return checks
}

const INTAKE = 'creates no exchange from input that arrives after prepareShutdown'
const PENDING = 'reports in-flight and pending work truly'
const FORCED = 'hands back or counts as aborted every unfinished message in a forced stop'
const GRACEFUL_ALL = 'loses and duplicates nothing in a graceful stop (completeAllTasks)'
const SUSPEND = 'holds intake while suspended and takes it up again on resume'

describe('the consumer conformance kit', () => {
  it.each<[keyof MemoryQueueFaults, string, RegExp]>([
    ['ignorePrepareShutdown', INTAKE, /arrived after prepareShutdown is returned/],
    ['hidePending', PENDING, /in flight 1 \+ pending 0 \+ at the source 3 ≠ 6/],
    ['dropOnForcedStop', FORCED, /every unfinished message goes back/],
    ['ackAborted', FORCED, /every unfinished message goes back/],
    ['ignoreSuspend', SUSPEND, /a suspended route creates no exchange/],
    [
      'alwaysHandBack',
      GRACEFUL_ALL,
      /completeAllTasks completes the 1 exchanges in flight at the stop and the 2 pending/,
    ],
  ])('fails a consumer with the fault %s in the check "%s"', async (fault, title, why) => {
    const check = checksOf(memoryQueue({ [fault]: true })).get(title)
    expect(check).toBeDefined()
    await expect(check!()).rejects.toThrow(why)
  })

  it('passes every check of a consumer without faults when asserting with node:assert', async () => {
    for (const [title, check] of checksOf(memoryQueue({})))
      await expect(check(), title).resolves.toBeUndefined()
  })

  it('runs the checks that apply to each built-in consumer', () => {
    const all = consumerConformanceChecks(memoryQueue({}))
    expect(all).toHaveLength(10)
    expect(consumerConformanceChecks(sedaSubject)).toEqual(all)
    expect(consumerConformanceChecks(directSubject)).toEqual(all)
    expect(consumerConformanceChecks(timerSubject)).toEqual(all)
    expect(
      consumerConformanceChecks({
        ...sedaSubject,
        capabilities: { ...sedaSubject.capabilities, silentPeer: true },
      }),
    ).toHaveLength(12)
  })
})
