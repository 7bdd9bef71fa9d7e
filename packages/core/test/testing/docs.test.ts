import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { consumerConformanceChecks } from '@dromedary/core/testing'
import { sedaSubject } from './subjects.js'

const doc = () => readFile(new URL('../../../../docs/components.md', import.meta.url), 'utf8')

describe('docs/components.md, the conformance kit', () => {
  it('shows memory-queue.test.ts verbatim, so the example compiles and runs', async () => {
    const example = await readFile(new URL('memory-queue.test.ts', import.meta.url), 'utf8')
    expect(await doc()).toContain(
      '```ts file=packages/core/test/testing/memory-queue.test.ts\n' + example + '```',
    )
  })

  it('describes every consumer check', async () => {
    const text = (await doc()).replace(/\s+/g, ' ')
    // One phrase of each check's description, in check order.
    const phrases = [
      'consumed once',
      'after `prepareShutdown` returned',
      'in-flight and pending counts',
      '`completeCurrentTaskOnly`',
      '`completeAllTasks`',
      'a forced stop hands back',
      'aborts every in-flight exchange',
      'suspend holds intake',
      'a stopped route consumes again',
      'a new context on the same source',
      '`stop()` ends within',
      '`forceStop()` within',
    ]
    expect(phrases).toHaveLength(
      consumerConformanceChecks({
        ...sedaSubject,
        capabilities: { ...sedaSubject.capabilities, silentPeer: true },
      }).length,
    )
    expect(phrases.filter((p) => !text.includes(p))).toEqual([])
  })
})
