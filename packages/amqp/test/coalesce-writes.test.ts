// Write coalescing: frames amqplib's multiplexer writes in one pass leave in one socket write.
import { connect } from 'amqplib'
import { beforeEach, describe, expect, it } from 'vitest'
import { coalesceWrites } from '../src/coalesce-writes.js'
import { BROKER_URL, useBroker, type Broker } from './support/broker.js'

const suite = useBroker()
let broker: Broker
beforeEach(() => {
  broker = suite.broker
})

/** Counts the writes that reach the socket's handle (`_write` one chunk, `_writev` several). */
function countWrites(socket: { _write: unknown; _writev?: unknown }) {
  const counts = { writes: 0, chunks: 0 }
  const write = socket._write as (...a: unknown[]) => unknown
  const writev = socket._writev as ((chunks: unknown[], cb: unknown) => unknown) | undefined
  socket._write = function (this: unknown, ...a: unknown[]) {
    counts.writes++
    counts.chunks++
    return write.apply(this, a)
  }
  if (writev !== undefined)
    socket._writev = function (this: unknown, chunks: unknown[], cb: unknown) {
      counts.writes++
      counts.chunks += chunks.length
      return writev.call(this, chunks, cb)
    }
  return counts
}

async function publishBurst(coalesce: boolean, n: number) {
  const q = await broker.queue('coalesce')
  const model = await connect(BROKER_URL)
  try {
    const connection = (model as unknown as { connection: { stream: { _write: unknown } } }).connection
    if (coalesce) expect(coalesceWrites(connection)).toBe(true)
    const ch = await model.createConfirmChannel()
    const counts = countWrites(connection.stream)
    const confirms: Array<Promise<void>> = []
    for (let i = 0; i < n; i++)
      confirms.push(
        new Promise((resolve, reject) =>
          ch.sendToQueue(q, Buffer.from(String(i)), {}, (err) => (err ? reject(err) : resolve())),
        ),
      )
    await Promise.all(confirms)
    const received = await broker.take(q, n)
    return { counts, received: received.map((m) => Number(m.content.toString())) }
  } finally {
    await model.close()
  }
}

describe('coalesceWrites', () => {
  it('sends a burst of publishes in a few socket writes, every message arriving in order', async () => {
    const n = 200
    const plain = await publishBurst(false, n)
    const coalesced = await publishBurst(true, n)
    const order = Array.from({ length: n }, (_, i) => i)
    expect(plain.received).toEqual(order)
    expect(coalesced.received).toEqual(order)
    // The pinned amqplib writes each publish on its own without it.
    expect(plain.counts.writes).toBeGreaterThan(n / 2)
    expect(coalesced.counts.writes).toBeLessThanOrEqual(5)
    expect(coalesced.counts.chunks).toBeGreaterThanOrEqual(n)
  })

  it('leaves a connection without the internals it needs as it is', () => {
    expect(coalesceWrites({})).toBe(false)
    expect(coalesceWrites({ muxer: { _readIncoming() {} }, stream: {} })).toBe(false)
    expect(coalesceWrites({ muxer: {}, stream: { cork() {}, uncork() {} } })).toBe(false)
  })

  it('uncorks after a pass that throws', () => {
    const calls: string[] = []
    const stream = { cork: () => calls.push('cork'), uncork: () => calls.push('uncork') }
    const muxer = {
      _readIncoming() {
        calls.push('pass')
        throw new Error('assert')
      },
    }
    expect(coalesceWrites({ muxer, stream })).toBe(true)
    expect(() => muxer._readIncoming()).toThrow('assert')
    expect(calls).toEqual(['cork', 'pass', 'uncork'])
  })
})
