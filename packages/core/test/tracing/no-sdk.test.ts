import { trace } from '@opentelemetry/api'
import { afterEach, describe, expect, it } from 'vitest'
import { traceContextOf, traceLogFields } from '@dromedary/core'
import { disposeContexts, newContext } from '../support.js'

afterEach(disposeContexts)

describe('tracing without an SDK (the API alone)', () => {
  it('starts no span and carries no context on the exchange', async () => {
    const ctx = newContext()
    const seen: unknown[] = []
    await ctx.addRoutes((r) => {
      r.from('direct:a').routeId('a').to('seda:q')
      r.from('seda:q')
        .routeId('q')
        .process((ex) => {
          seen.push(traceContextOf(ex), trace.getActiveSpan(), traceLogFields())
        })
        .to('mock:out')
    })
    await ctx.start()
    ctx.mock('out').expectedMessageCount(1)
    const ex = await ctx.producer().send('direct:a', 'x', {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    })
    await ctx.mock('out').assertIsSatisfied()
    expect(traceContextOf(ex)).toBeUndefined()
    expect(seen).toEqual([undefined, undefined, {}])
  })
})
