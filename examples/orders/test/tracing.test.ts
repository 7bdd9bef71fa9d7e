import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureBuilt,
  freePort,
  startExample,
  type ExampleProcess,
} from '../../../test/support/example-process.js'

beforeAll(() => ensureBuilt('orders'), 120_000)

let app: ExampleProcess | undefined
let collector: Server | undefined

afterEach(async () => {
  app?.kill()
  app = undefined
  collector?.closeAllConnections()
  if (collector !== undefined) await new Promise((resolve) => collector!.close(resolve))
  collector = undefined
})

describe('examples/orders with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  it('sends the spans of an order and of its shutdown to the OTLP collector', async () => {
    // A stand-in collector: records each OTLP/HTTP export (protobuf; span names are plain UTF-8 in it).
    const exports: Array<{ path: string; body: Buffer }> = []
    collector = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        exports.push({ path: req.url ?? '', body: Buffer.concat(chunks) })
        res.statusCode = 200
        res.end()
      })
    })
    await new Promise<void>((resolve) => collector!.listen(0, '127.0.0.1', resolve))
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`
    const [port, managementPort] = [await freePort(), await freePort()]
    app = startExample('orders', {
      PORT: String(port),
      MANAGEMENT_PORT: String(managementPort),
      PAYMENT_DELAY_MS: '10',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      AMQP_URL: undefined,
    })
    await app.waitForLine((l) => l.msg.startsWith('Orders app ready'))
    const res = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: 'ada', items: [{ sku: 'camel-plush', quantity: 2 }] }),
    })
    expect(res.status).toBe(202)
    await app.waitForLine((l) => l.msg.startsWith('Shipped order'))
    app.child.kill('SIGTERM')
    expect(await app.exited, app.output()).toEqual({ code: 0, signal: null })
    // The SDK's shutdown flushed every span before the process exited.
    const sent = Buffer.concat(exports.map((e) => e.body)).toString('latin1')
    expect(exports.every((e) => e.path === '/v1/traces')).toBe(true)
    expect(sent).toContain('api process')
    expect(sent).toContain('ship process')
    expect(sent).toContain('shutdown')
    expect(sent).toContain('@dromedary/core')
  })
})
