import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatSse, SseStream } from '../../src/management/sse-stream.js'
import { parseSse } from './sse-client.js'

const readAll = async (stream: SseStream): Promise<string> => {
  let text = ''
  for await (const chunk of stream.body) text += String(chunk)
  return text
}

describe('SSE framing', () => {
  it('delivers any data text intact, whatever line breaks and markup it holds (line breaks read back as \\n)', () => {
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', ':', '<', '>', '\n', '\r', 'é', '\u2028', 'data: x'),
    })
    fc.assert(
      fc.property(fc.array(text, { maxLength: 5 }), (datas) => {
        const wire = datas.map((data, i) => formatSse({ event: 'snapshot', data, id: i + 1 })).join('')
        const { events } = parseSse(wire)
        expect(events.map((e) => e.data)).toEqual(datas.map((d) => d.replace(/\r\n|\r/g, '\n')))
        expect(events.map((e) => e.id)).toEqual(datas.map((_, i) => String(i + 1)))
        expect(new Set(events.map((e) => e.event))).toEqual(new Set(datas.length === 0 ? [] : ['snapshot']))
      }),
    )
  })

  it('keeps JSON with hostile strings in one data line that parses back to the same value', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (id, from) => {
        const value = { routes: [{ id: `${id}\n\nevent: evil\ndata: x`, from: `<script>${from}</script>` }] }
        const { events } = parseSse(formatSse({ event: 'snapshot', data: JSON.stringify(value) }))
        expect(events).toHaveLength(1)
        expect(JSON.parse(events[0]!.data)).toEqual(value)
      }),
    )
  })
})

describe('SseStream', () => {
  it('starts with the reconnection delay and ends cleanly after what was sent', async () => {
    const stream = new SseStream({ retryMs: 2000, maxBufferedBytes: 1 << 20 })
    stream.send({ event: 'lifecycle', data: '{"seq":1}', id: 1 })
    stream.end()
    const parsed = parseSse(await readAll(stream))
    expect(parsed.retry).toBe(2000)
    expect(parsed.events).toEqual([{ event: 'lifecycle', data: '{"seq":1}', id: '1' }])
    expect(stream.open).toBe(false)
    expect(stream.send({ event: 'snapshot', data: '{}' })).toBe(false)
  })

  it('cuts off a client that leaves more than maxBufferedBytes unread', () => {
    const stream = new SseStream({ retryMs: 2000, maxBufferedBytes: 4096 })
    let closed = false
    stream.onClose(() => (closed = true))
    const sent: boolean[] = []
    for (let i = 0; i < 20; i++) sent.push(stream.send({ event: 'snapshot', data: 'x'.repeat(500) }))
    expect(sent.indexOf(false)).toBeGreaterThan(0)
    expect(sent.slice(sent.indexOf(false)).every((s) => !s)).toBe(true)
    expect(stream.open).toBe(false)
    return new Promise<void>((resolve) => setImmediate(() => (expect(closed).toBe(true), resolve())))
  })
})
