// Property: a sequence of messages (key, succeeds or fails) through an idempotent consumer on the memory
// repository behaves like Camel's model of it, for every combination of eager / skipDuplicate /
// removeOnFailure, run one at a time or all at once.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { DUPLICATE_HEADER, memoryIdempotentRepository } from '@dromedary/core'
import { disposeContexts, flush, newContext } from '../support.js'

afterEach(disposeContexts)

interface Msg {
  key: string
  fail: boolean
}

const messages = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), fail: fc.boolean() }), {
  maxLength: 30,
})
const options = fc.record({ eager: fc.boolean(), skipDuplicate: fc.boolean(), removeOnFailure: fc.boolean() })

/** The model: which messages run the effect, and which run it marked duplicate, one at a time. */
function model(
  msgs: readonly Msg[],
  o: { eager: boolean; skipDuplicate: boolean; removeOnFailure: boolean },
) {
  const keys = new Set<string>()
  return msgs.map((m) => {
    const dup = keys.has(m.key)
    if (dup) return o.skipDuplicate ? 'skipped' : 'duplicate'
    if (o.eager) {
      keys.add(m.key)
      if (m.fail && o.removeOnFailure) keys.delete(m.key)
    } else if (!m.fail) keys.add(m.key)
    return 'effect'
  })
}

async function runAll(
  msgs: readonly Msg[],
  o: { eager: boolean; skipDuplicate: boolean; removeOnFailure: boolean },
  concurrent: boolean,
) {
  const repository = memoryIdempotentRepository({ maxSize: 100 })
  const seen: string[] = new Array<string>(msgs.length).fill('skipped')
  const ctx = newContext()
  await ctx.addRoutes((r) =>
    r
      .from<{ i: number; m: Msg }>('direct:in')
      .idempotentConsumer((ex) => ex.message.body.m.key, { repository, ...o })
      .process(async (ex) => {
        if (concurrent) await flush()
        seen[ex.message.body.i] = ex.message.headers[DUPLICATE_HEADER] === true ? 'duplicate' : 'effect'
        if (ex.message.body.m.fail) throw new Error('effect failed')
      }),
  )
  await ctx.start()
  const send = (m: Msg, i: number) => ctx.producer().send('direct:in', { i, m })
  if (concurrent) await Promise.all(msgs.map(send))
  else for (const [i, m] of msgs.entries()) await send(m, i)
  await ctx.stop()
  return { seen, repository }
}

describe('idempotentConsumer (property)', () => {
  it('runs the effect, skips or marks each message exactly as the model says', async () => {
    await fc.assert(
      fc.asyncProperty(messages, options, async (msgs, o) => {
        const { seen, repository } = await runAll(msgs, o, false)
        expect(seen).toEqual(model(msgs, o))
        // What the repository remembers at the end is the model's set of keys.
        const expected = new Set<string>()
        for (const m of msgs) {
          if (expected.has(m.key)) continue
          if (o.eager ? !(m.fail && o.removeOnFailure) : !m.fail) expected.add(m.key)
        }
        for (const k of ['a', 'b', 'c', 'd']) expect(repository.contains(k)).toBe(expected.has(k))
      }),
      { numRuns: 150 },
    )
  })

  it('runs the effect of a key at most once among concurrent messages when eager', async () => {
    await fc.assert(
      fc.asyncProperty(messages, async (msgs) => {
        const ok = msgs.map((m) => ({ ...m, fail: false }))
        const { seen } = await runAll(ok, { eager: true, skipDuplicate: true, removeOnFailure: true }, true)
        const effects = ok.filter((_, i) => seen[i] === 'effect').map((m) => m.key)
        expect(effects.sort()).toEqual([...new Set(ok.map((m) => m.key))].sort())
      }),
      { numRuns: 100 },
    )
  })
})
