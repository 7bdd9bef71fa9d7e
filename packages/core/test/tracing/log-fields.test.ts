import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { traceLogFields } from '@dromedary/core'
import { installTracing, type TestTracing } from '../../../../test/support/otel.js'
import { disposeContexts, newContext } from '../support.js'

let otel: TestTracing | undefined

afterEach(async () => {
  await disposeContexts()
  await otel?.uninstall()
  otel = undefined
})

/** A pino logger with the mixin the default logger uses, writing JSON lines into `lines`. */
function jsonLogger(lines: Array<Record<string, unknown>>) {
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>)
      cb()
    },
  })
  return pino({ level: 'info', mixin: traceLogFields }, out)
}

describe('log lines written while an exchange runs', () => {
  it('carry trace_id and span_id of the exchange span', async () => {
    otel = installTracing()
    const lines: Array<Record<string, unknown>> = []
    const ctx = newContext({ logger: jsonLogger(lines) })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').log('handling ${body}'))
    await ctx.start()
    await ctx.producer().send('direct:a', 'x')
    const span = otel.span('a process').spanContext()
    const line = lines.find((l) => l.msg === 'handling x')
    expect(line).toMatchObject({ trace_id: span.traceId, span_id: span.spanId, route: 'a' })
  })

  it('carry no trace fields without an SDK', async () => {
    const lines: Array<Record<string, unknown>> = []
    const ctx = newContext({ logger: jsonLogger(lines) })
    await ctx.addRoutes((r) => r.from('direct:a').routeId('a').log('handling ${body}'))
    await ctx.start()
    await ctx.producer().send('direct:a', 'x')
    const line = lines.find((l) => l.msg === 'handling x')
    expect(line).toBeDefined()
    expect(line).not.toHaveProperty('trace_id')
    expect(line).not.toHaveProperty('span_id')
  })
})
