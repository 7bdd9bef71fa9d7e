import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { describeConsumerConformance, type ConsumerSubject } from '@dromedary/core/testing'
import { MemoryBroker, memoryQueueComponent } from './memory-queue.js'

const broker = new MemoryBroker()

/** How the kit makes a source for each check, feeds it and looks at what is left in it. */
const subject: ConsumerSubject = {
  name: 'mq',
  // Requeues what it did not finish; up to 3 prefetched, 1 running; the queue outlives a context.
  capabilities: { handsBack: true, canSuspend: true, concurrency: 1, durable: true },
  setup() {
    const queue = `orders-${randomUUID()}`
    return {
      uri: `mq:${queue}?prefetch=3`,
      components: () => ({ mq: memoryQueueComponent(broker) }),
      feed: (_ctx, ids) => Promise.resolve(broker.publish(queue, ids)),
      atSource: () => broker.ready(queue),
      drainSource: () => Promise.resolve(broker.drain(queue)),
    }
  },
}

describeConsumerConformance({ describe, it, expect }, subject)
