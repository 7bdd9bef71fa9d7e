import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { brokenParents, installTracing, parentOf, type TestTracing } from '../support/otel.js'
import {
  checkBroker,
  CLIENT_SPAN_ID,
  CLIENT_TRACE_ID,
  startFlow,
  type Flow,
} from '../support/tracing-flow.js'

let otel: TestTracing
let flow: Flow | undefined

beforeAll(checkBroker)
beforeEach(() => {
  otel = installTracing()
})
afterEach(async () => {
  await flow?.close()
  flow = undefined
  await otel.uninstall()
})

const idOf = (s: ReadableSpan) => s.spanContext().spanId

describe('tracing across HTTP, seda, a worker group, RabbitMQ and a second context (real broker, real sockets)', () => {
  it('is one trace under the client’s traceparent, with the right parent chain and kinds', async () => {
    flow = await startFlow()
    const sinkRequest = flow.nextSinkRequest()
    expect(await flow.order({ id: 1 })).toBe(200)
    const sinkHeaders = await sinkRequest
    const deliver = await otel.whenEnded('deliver process')
    await otel.whenEnded('publish process')
    const spans = otel.spans()
    const one = (name: string) => otel.span(name)

    const intake = one('intake process')
    const toSeda = one('to seda:orders')
    const queue = one('queue process')
    const publish = one('publish process')
    const toAmqp = one(`to amqp:queue:${flow.queue}`)
    const toHttp = one(`to ${flow.sinkUrl}`)

    expect(spans.every((s) => s.spanContext().traceId === CLIENT_TRACE_ID)).toBe(true)
    expect(parentOf(intake)).toBe(CLIENT_SPAN_ID)
    expect(parentOf(toSeda)).toBe(idOf(intake))
    expect(parentOf(queue)).toBe(idOf(toSeda))
    expect(parentOf(publish)).toBe(idOf(queue))
    expect(parentOf(toAmqp)).toBe(idOf(publish))
    expect(parentOf(deliver)).toBe(idOf(toAmqp))
    expect(parentOf(toHttp)).toBe(idOf(deliver))
    // The sink got the sending span's context, not the client's traceparent copied through.
    expect(sinkHeaders.traceparent).toBe(`00-${CLIENT_TRACE_ID}-${idOf(toHttp)}-01`)

    expect(intake.kind).toBe(SpanKind.SERVER)
    expect(toSeda.kind).toBe(SpanKind.PRODUCER)
    expect(queue.kind).toBe(SpanKind.CONSUMER)
    expect(publish.kind).toBe(SpanKind.INTERNAL)
    expect(toAmqp.kind).toBe(SpanKind.PRODUCER)
    expect(deliver.kind).toBe(SpanKind.CONSUMER)
    expect(toHttp.kind).toBe(SpanKind.CLIENT)

    expect(intake.attributes['http.request.method']).toBe('POST')
    expect(intake.attributes['url.path']).toBe('/orders')
    expect(deliver.attributes['messaging.system']).toBe('rabbitmq')
    expect(deliver.attributes['messaging.destination.name']).toBe(`queue:${flow.queue}`)
    expect(toAmqp.attributes['messaging.operation.type']).toBe('send')
    expect(brokenParents(spans, [CLIENT_SPAN_ID])).toEqual([])
  })

  it('a forced shutdown of the consuming context names the route whose exchange it aborted', async () => {
    flow = await startFlow()
    flow.holdSink()
    const sinkRequest = flow.nextSinkRequest()
    expect(await flow.order({ id: 2 })).toBe(200)
    await sinkRequest // the deliver route's exchange now waits for the sink's answer
    const report = await flow.b.forceStop()
    expect(report.forced).toBe(true)
    const shutdown = otel.spans().filter((s) => s.name === 'shutdown')
    expect(shutdown).toHaveLength(1)
    const s = shutdown[0]!
    expect(s.attributes['dromedary.context.name']).toBe('deliverer')
    expect(s.attributes['dromedary.shutdown.aborted_routes']).toEqual(['deliver'])
    expect(s.attributes['dromedary.shutdown.outcome']).toBe('forced')
    expect(s.status.code).toBe(SpanStatusCode.ERROR)
    expect(s.events.map((e) => e.name)).toEqual(
      expect.arrayContaining(['notice', 'route stopped', 'now', 'exchanges aborted', 'forced']),
    )
    const deliver = await otel.whenEnded('deliver process')
    expect(deliver.status.code).toBe(SpanStatusCode.ERROR)
  })
})
