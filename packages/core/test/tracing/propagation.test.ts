import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { traceContextOf, traceLogFields, type Exchange } from '@dromedary/core'
import { installTracing, parentOf, type TestTracing } from '../../../../test/support/otel.js'
import { deferred, disposeContexts, newContext } from '../support.js'

let otel: TestTracing

beforeEach(() => {
  otel = installTracing()
})

afterEach(async () => {
  await disposeContexts()
  await otel.uninstall()
})

const idOf = (name: string) => otel.span(name).spanContext().spanId
const traceOf = (name: string) => otel.span(name).spanContext().traceId

describe('tracing: one span per exchange, producer steps as children', () => {
  it('direct: the called route is a child of the producer step, which is a child of the caller', async () => {
    const ctx = newContext()
    let activeInB: string | undefined
    await ctx.addRoutes((r) => {
      r.from('direct:a').routeId('a').to('direct:b')
      r.from('direct:b')
        .routeId('b')
        .process(() => {
          activeInB = trace.getActiveSpan()?.spanContext().spanId
        })
    })
    await ctx.start()
    await ctx.producer().send('direct:a', 'x')
    const a = otel.span('a process')
    const to = otel.span('to direct:b')
    const b = otel.span('b process')
    expect(parentOf(a)).toBeUndefined()
    expect(parentOf(to)).toBe(a.spanContext().spanId)
    expect(parentOf(b)).toBe(to.spanContext().spanId)
    expect([a.kind, to.kind, b.kind]).toEqual([SpanKind.INTERNAL, SpanKind.INTERNAL, SpanKind.INTERNAL])
    expect(new Set([traceOf('a process'), traceOf('to direct:b'), traceOf('b process')]).size).toBe(1)
    // User code in a step sees its route's span as the active one.
    expect(activeInB).toBe(b.spanContext().spanId)
    expect(a.attributes['dromedary.route.id']).toBe('a')
  })

  it('seda: the consumer span (CONSUMER) is a child of the sending step (PRODUCER)', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:in').routeId('in').to('seda:q')
      r.from('seda:q').routeId('q').to('mock:out')
    })
    await ctx.start()
    ctx.mock('out').expectedMessageCount(1)
    await ctx.producer().send('direct:in', 'x')
    await ctx.mock('out').assertIsSatisfied()
    await otel.whenEnded('q process')
    const send = otel.span('to seda:q')
    const q = otel.span('q process')
    expect(send.kind).toBe(SpanKind.PRODUCER)
    expect(q.kind).toBe(SpanKind.CONSUMER)
    expect(parentOf(send)).toBe(idOf('in process'))
    expect(parentOf(q)).toBe(send.spanContext().spanId)
    expect(q.spanContext().traceId).toBe(send.spanContext().traceId)
    expect(q.attributes['messaging.system']).toBe('seda')
    expect(q.attributes['messaging.destination.name']).toBe('q')
    expect(send.attributes['messaging.operation.type']).toBe('send')
  })

  it('worker group: the route an asyncTask continues in is a child of the suspended exchange', async () => {
    const ctx = newContext({ workerGroups: { pool: { workers: 1 } } })
    await ctx.addRoutes((r) => {
      r.from('direct:calls').routeId('calls').asyncTask('direct:work', { group: 'pool' })
      r.from('direct:work').routeId('work').to('mock:done')
    })
    await ctx.start()
    await ctx.producer().send('direct:calls', 'x')
    const work = otel.span('work process')
    expect(parentOf(work)).toBe(idOf('calls process'))
    expect(parentOf(otel.span('to mock:done'))).toBe(work.spanContext().spanId)
  })

  it('delay and asyncRoute: the steps after the wait and the continued route stay in the trace', async () => {
    const ctx = newContext()
    let afterDelay: string | undefined
    await ctx.addRoutes((r) => {
      r.from('direct:a')
        .routeId('a')
        .delay(5)
        .process(() => {
          afterDelay = trace.getActiveSpan()?.spanContext().spanId
        })
        .asyncRoute('direct:later', { delayMs: 5 })
      r.from('direct:later').routeId('later').to('mock:end')
    })
    await ctx.start()
    await ctx.producer().send('direct:a', 'x')
    const a = otel.span('a process')
    expect(afterDelay).toBe(a.spanContext().spanId)
    expect(parentOf(otel.span('later process'))).toBe(a.spanContext().spanId)
  })

  it('asyncTaskData: the new exchange runs as a child of the exchange that submitted it', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => {
      r.from('direct:a')
        .routeId('a')
        .asyncTaskData('direct:data', (ex) => ({ of: ex.message.body }))
      r.from('direct:data').routeId('data').to('mock:data')
    })
    await ctx.start()
    ctx.mock('data').expectedMessageCount(1)
    await ctx.producer().send('direct:a', 'x')
    await ctx.mock('data').assertIsSatisfied()
    await otel.whenEnded('data process')
    expect(parentOf(otel.span('data process'))).toBe(idOf('a process'))
    expect(traceOf('data process')).toBe(traceOf('a process'))
  })

  it('split, multicast and wireTap: each copy sends inside a child span of the exchange', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .split(
          () => [1, 2],
          (b) => b.to('mock:part'),
        )
        .multicast(['mock:m1', 'mock:m2'])
        .wireTap('mock:tap'),
    )
    await ctx.start()
    ctx.mock('tap').expectedMessageCount(1)
    await ctx.producer().send('direct:a', 'x')
    await ctx.mock('tap').assertIsSatisfied()
    await otel.whenEnded('wireTap mock:tap')
    const a = idOf('a process')
    const parts = otel.spans().filter((s) => s.name === 'to mock:part')
    expect(parts).toHaveLength(2)
    for (const p of parts) expect(parentOf(p)).toBe(a)
    expect(parentOf(otel.span('multicast mock:m1'))).toBe(a)
    expect(parentOf(otel.span('multicast mock:m2'))).toBe(a)
    expect(parentOf(otel.span('wireTap mock:tap'))).toBe(a)
  })

  it('a failed exchange ends its span with status ERROR and the exception recorded', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .process(() => {
          throw new Error('boom')
        }),
    )
    await ctx.start()
    const ex = await ctx.producer().send('direct:a', 'x')
    expect(ex.exception).toBeInstanceOf(Error)
    const a = otel.span('a process')
    expect(a.status.code).toBe(SpanStatusCode.ERROR)
    expect(a.status.message).toContain('boom')
    expect(a.events.map((e) => e.name)).toContain('exception')
  })

  it('honours a traceparent header of the incoming message (the trace id is the sender’s)', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').to('mock:out'))
    await ctx.start()
    const traceId = '0af7651916cd43dd8448eb211c80319c'
    const parent = 'b7ad6b7169203331'
    await ctx.producer().send('direct:a', 'x', { traceparent: `00-${traceId}-${parent}-01` })
    const a = otel.span('a process')
    expect(a.spanContext().traceId).toBe(traceId)
    expect(parentOf(a)).toBe(parent)
  })

  it('log fields and traceContextOf name the exchange span while a step runs', async () => {
    const ctx = newContext()
    let fields: Record<string, string> = {}
    let carried: Exchange | undefined
    await ctx.addRoutes((r) =>
      r
        .from('direct:a')
        .routeId('a')
        .process((ex) => {
          fields = traceLogFields()
          carried = ex
          expect(traceContextOf(ex)).toBeDefined()
        }),
    )
    await ctx.start()
    await ctx.producer().send('direct:a', 'x')
    const a = otel.span('a process').spanContext()
    expect(fields).toEqual({ trace_id: a.traceId, span_id: a.spanId })
    // Once the exchange ended it carries no span any more.
    expect(traceContextOf(carried!)).toBeUndefined()
    expect(traceLogFields()).toEqual({})
  })

  it('a forced shutdown span lists the routes of the aborted exchanges, with its events and counts', async () => {
    const ctx = newContext()
    const held = deferred()
    await ctx.addRoutes((r) => {
      r.from('seda:slow')
        .routeId('slow')
        .process(async (ex) => {
          held.resolve()
          await new Promise<void>((resolve) => ex.signal.addEventListener('abort', () => resolve()))
        })
      r.from('direct:idle').routeId('idle').to('mock:idle')
    })
    await ctx.start()
    await ctx.producer().send('seda:slow', 'x')
    await held.promise
    const report = await ctx.forceStop()
    expect(report.forced).toBe(true)
    const s = otel.span('shutdown')
    expect(parentOf(s)).toBeUndefined()
    expect(s.attributes['dromedary.shutdown.outcome']).toBe('forced')
    expect(s.attributes['dromedary.shutdown.aborted_routes']).toEqual(['slow'])
    expect(s.attributes['dromedary.shutdown.inflight_at_start']).toBe(1)
    expect(s.attributes['dromedary.shutdown.aborted']).toBe(1)
    expect(s.attributes['dromedary.shutdown.routes']).toBe(2)
    const events = s.events.map((e) => e.name)
    expect(events).toContain('notice')
    expect(events).toContain('now')
    expect(events).toContain('forced')
    const stopped = s.events
      .filter((e) => e.name === 'route stopped')
      .map((e) => e.attributes?.['dromedary.route.id'])
    expect(stopped.sort()).toEqual(['idle', 'slow'])
    // The aborted exchange's own span says so.
    const slow = otel.span('slow process')
    expect(slow.status.code).toBe(SpanStatusCode.ERROR)
    expect(slow.attributes['dromedary.aborted']).toBeDefined()
  })
})
