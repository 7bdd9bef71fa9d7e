/**
 * The traced flow with the amqplib, http, fastify and undici auto-instrumentations enabled beside Dromedary's
 * own spans: still one trace under the client's traceparent, and no span with a parent that is not in it.
 * The instrumentations patch modules as they load, so the flow (and amqplib, fastify, node:http users) is
 * imported only after they are enabled.
 */
import { createRequire } from 'node:module'
import { SpanKind } from '@opentelemetry/api'
import { registerInstrumentations } from '@opentelemetry/instrumentation'
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib'
import { FastifyInstrumentation } from '@opentelemetry/instrumentation-fastify'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { brokenParents, installTracing, parentOf, type TestTracing } from '../support/otel.js'

const instrumentations = [
  new AmqplibInstrumentation(),
  new FastifyInstrumentation(),
  new HttpInstrumentation(),
  new UndiciInstrumentation(),
]
registerInstrumentations({ instrumentations })
// fastify as @dromedary/http loads it, through `require` so the instrumentation's hook sees it load.
createRequire(new URL('../../packages/http/package.json', import.meta.url))('fastify')
const flowModule = await import('../support/tracing-flow.js')
const { CLIENT_SPAN_ID, CLIENT_TRACE_ID, checkBroker, startFlow } = flowModule

let otel: TestTracing
let flow: Awaited<ReturnType<typeof startFlow>> | undefined

beforeEach(async () => {
  await checkBroker()
  otel = installTracing()
  for (const i of instrumentations) i.setTracerProvider(otel.provider)
})
afterEach(async () => {
  await flow?.close()
  flow = undefined
  await otel.uninstall()
})
afterAll(() => {
  for (const i of instrumentations) i.disable()
})

/** True when `ancestor` is `span` or one of its ancestors within `spans`. */
function descends(spans: readonly ReadableSpan[], span: ReadableSpan, ancestor: ReadableSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  for (let s: ReadableSpan | undefined = span; s !== undefined; s = byId.get(parentOf(s) ?? '')) {
    if (s === ancestor) return true
  }
  return false
}

describe('tracing beside the amqplib, http, fastify and undici auto-instrumentations', () => {
  it('keeps one trace with no broken or duplicated parent', async () => {
    flow = await startFlow()
    const sinkRequest = flow.nextSinkRequest()
    expect(await flow.order({ id: 1 })).toBe(200)
    const sinkHeaders = await sinkRequest
    const deliver = await otel.whenEnded('deliver process')
    await otel.whenEnded('publish process')
    const toHttp = await otel.whenEnded(`to ${flow.sinkUrl}`)
    const spans = otel.spans()
    const foreign = spans.filter((s) => s.spanContext().traceId !== CLIENT_TRACE_ID)
    expect(foreign.map((s) => s.name)).toEqual([])
    expect(brokenParents(spans, [CLIENT_SPAN_ID])).toEqual([])

    const intake = otel.span('intake process')
    const toAmqp = otel.span(`to amqp:queue:${flow.queue}`)
    // The instrumentations' spans sit inside ours, not beside them.
    const scopes = new Set(spans.map((s) => s.instrumentationScope.name))
    expect(scopes).toContain('@opentelemetry/instrumentation-amqplib')
    expect(scopes).toContain('@opentelemetry/instrumentation-undici')
    expect(scopes).toContain('@opentelemetry/instrumentation-http')
    const amqpPublish = spans.filter(
      (s) =>
        s.instrumentationScope.name === '@opentelemetry/instrumentation-amqplib' &&
        Number(s.kind) === Number(SpanKind.PRODUCER),
    )
    expect(amqpPublish.length).toBeGreaterThan(0)
    for (const p of amqpPublish) expect(descends(spans, p, toAmqp)).toBe(true)
    expect(descends(spans, deliver, toAmqp)).toBe(true)
    const serverSpan = spans.find(
      (s) =>
        s.instrumentationScope.name === '@opentelemetry/instrumentation-http' &&
        Number(s.kind) === Number(SpanKind.SERVER),
    )
    expect(serverSpan).toBeDefined()
    expect(descends(spans, intake, serverSpan!)).toBe(true)
    // The sink's traceparent: one value, naming a span that descends from our producer step.
    const sent = String(sinkHeaders.traceparent)
    expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    const sentParent = spans.find((s) => s.spanContext().spanId === sent.split('-')[2])
    expect(sentParent).toBeDefined()
    expect(descends(spans, sentParent!, toHttp)).toBe(true)
  })
})
