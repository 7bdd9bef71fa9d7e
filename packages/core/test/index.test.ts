import { describe, expect, it } from 'vitest'
import * as core from '@dromedary/core'

describe('@dromedary/core public API', () => {
  it('exports exactly these runtime values', () => {
    // Adding or removing a runtime export is an API change: update this list on purpose, with its JSDoc.
    expect(Object.keys(core).sort()).toEqual([
      'ChoiceBuilder',
      'CoreErrorCodes',
      'DUPLICATE_HEADER',
      'DefaultShutdownStrategy',
      'DromedaryError',
      'EXCEPTION_CAUGHT',
      'MAX_DURATION_MS',
      'REDELIVERY_COUNTER',
      'RESERVED_HEADER_PREFIXES',
      'RouteBuilder',
      'TRACER_NAME',
      'TRACE_HEADERS',
      'UNSAFE_FORWARD_HEADERS',
      'Waiter',
      'abortReason',
      'abortable',
      'abortableExchange',
      'createContext',
      'describeEndpoint',
      'drainRoutes',
      'formatInflightExchange',
      'injectTraceHeaders',
      'isDromedaryError',
      'isReservedHeader',
      'memoryIdempotentRepository',
      'traceContextOf',
      'traceLogFields',
      'untilAborted',
      'validateDuration',
    ])
  })

  it('re-exports nothing wholesale from index.ts', async () => {
    const { readFile } = await import('node:fs/promises')
    const source = await readFile(new URL('../src/index.ts', import.meta.url), 'utf8')
    expect(source).not.toMatch(/export \*/)
  })
})
