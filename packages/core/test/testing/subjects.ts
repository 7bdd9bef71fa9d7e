// Conformance subjects of the built-in components (not a test file: vitest only collects *.test.ts).
import { randomUUID } from 'node:crypto'
import type { Exchange, IntegrationContext } from '@dromedary/core'
import type { ConsumerFixture, ConsumerSubject, ProducerFixture } from '@dromedary/core/testing'

/** A name no other check or suite uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

/**
 * Feeding through the context's ProducerTemplate, from outside any route. A send that fails went back to its
 * sender: `drainSource` reports it (after every send settled) and forgets it.
 */
function templateFeed(uri: string): Pick<ConsumerFixture, 'feed' | 'drainSource'> {
  const sends: Array<Promise<{ id: string; exchange: Exchange }>> = []
  return {
    feed(ctx: IntegrationContext, ids: readonly string[]): Promise<void> {
      // Not awaited: a direct: send lasts as long as its route; the kit only needs it under way.
      for (const id of ids)
        sends.push(
          ctx
            .producer()
            .send(uri, { id })
            .then((exchange) => ({ id, exchange })),
        )
      return Promise.resolve()
    },
    async drainSource() {
      const settled = await Promise.all(sends.splice(0))
      return settled.filter((s) => s.exchange.exception !== undefined).map((s) => s.id)
    },
  }
}

export const sedaSubject: ConsumerSubject = {
  name: 'seda',
  // An in-memory queue cannot hand work back: a forced stop drops and counts it.
  capabilities: { handsBack: false, canSuspend: true, concurrency: 1 },
  setup() {
    const uri = `seda:${uniqueName('conformance')}`
    return { uri, ...templateFeed(uri) }
  },
}

export const directSubject: ConsumerSubject = {
  name: 'direct',
  // The caller awaits the route: what is not finished fails the caller's send (handed back to the sender).
  capabilities: { handsBack: true, canSuspend: true, concurrency: Number.POSITIVE_INFINITY },
  setup() {
    const uri = `direct:${uniqueName('conformance')}`
    return { uri, ...templateFeed(uri) }
  },
}

export const timerSubject: ConsumerSubject = {
  name: 'timer',
  capabilities: { handsBack: false, canSuspend: true, concurrency: 1 },
  setup: () => ({ uri: `timer:${uniqueName('conformance')}?period=5` }),
}

/**
 * A destination route consuming `uri` that records each id; `stall()` makes it hold every later message until
 * its exchange is aborted.
 */
export function recordingDestination(uri: string): ProducerFixture {
  const received: string[] = []
  let stalled = false
  return {
    uri,
    async routes(ctx) {
      await ctx.addRoutes((r) => {
        r.from(uri.replace(/\?.*$/, ''))
          .routeId('destination')
          .process((ex) => {
            received.push((ex.message.body as { id: string }).id)
            if (!stalled) return
            return new Promise<void>((_, reject) => {
              ex.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })
            })
          })
      })
    },
    received: () => Promise.resolve([...received]),
    stall() {
      stalled = true
    },
  }
}
