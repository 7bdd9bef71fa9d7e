// SlotSet against a plain Set as the model: any sequence of add/delete/takeAll leaves both with the same members.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SlotSet, type Slotted } from '../src/held-set.js'

type Item = Slotted & { readonly n: number }

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('add' as const), i: fc.nat(15) }),
    fc.record({ op: fc.constant('delete' as const), i: fc.nat(15) }),
    fc.record({ op: fc.constant('takeAll' as const) }),
  ),
  { maxLength: 200 },
)

describe('SlotSet', () => {
  it('holds exactly what a Set would, with every slot pointing at its own index', () => {
    fc.assert(
      fc.property(ops, (commands) => {
        const items: Item[] = Array.from({ length: 16 }, (_, n) => ({ n, slot: -1 }))
        const set = new SlotSet<Item>()
        const model = new Set<Item>()
        for (const c of commands) {
          if (c.op === 'add') {
            const item = items[c.i]!
            // An entry is in the set at most once (the consumer never adds an entry it already runs).
            if (model.has(item)) continue
            set.add(item)
            model.add(item)
          } else if (c.op === 'delete') {
            const item = items[c.i]!
            expect(set.delete(item)).toBe(model.delete(item))
          } else {
            const taken = set.takeAll()
            expect(new Set(taken)).toEqual(model)
            model.clear()
          }
          expect(set.size).toBe(model.size)
          for (const item of items) expect(set.has(item)).toBe(model.has(item))
          set.values().forEach((item, i) => expect(item.slot).toBe(i))
          for (const item of items) if (!model.has(item)) expect(item.slot).toBe(-1)
        }
      }),
      { numRuns: 300 },
    )
  })
})
