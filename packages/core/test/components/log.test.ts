import { afterEach, describe, expect, it } from 'vitest'
import { CoreErrorCodes } from '@dromedary/core'
import { captureLogger, disposeContexts, newContext } from '../support.js'

afterEach(disposeContexts)

async function logTo(uri: string, body: unknown, headers: Record<string, unknown> = {}) {
  const { logger, lines } = captureLogger()
  const ctx = newContext({ logger })
  await ctx.addRoutes((r) => r.from('direct:in').to(uri))
  await ctx.start()
  const ex = await ctx.producer().send('direct:in', body, headers)
  const logged = lines.filter((l) => l.msg?.startsWith('Exchange['))
  return { ex, logged }
}

describe('log:', () => {
  it('logs the body at info under the endpoint name by default, without headers', async () => {
    const { ex, logged } = await logTo('log:orders', { id: 7 }, { secret: 's' })
    expect(logged).toEqual([
      { level: 'info', obj: { logger: 'orders', exchangeId: ex.id }, msg: 'Exchange[Body: {"id":7}]' },
    ])
  })

  it('logs a string body as it is', async () => {
    const { logged } = await logTo('log:x', 'plain text')
    expect(logged[0]?.msg).toBe('Exchange[Body: plain text]')
  })

  it('logs at the level given', async () => {
    const { logged } = await logTo('log:x?level=warn', 1)
    expect(logged.map((l) => l.level)).toEqual(['warn'])
  })

  it('adds the headers with showHeaders=true', async () => {
    const { logged } = await logTo('log:x?showHeaders=true', 'b', { h: 1 })
    expect(logged[0]?.msg).toBe('Exchange[Headers: {"h":1}, Body: b]')
  })

  it('leaves the body out with showBody=false', async () => {
    const { logged } = await logTo('log:x?showBody=false&showHeaders=true', 'b', { h: 1 })
    expect(logged[0]?.msg).toBe('Exchange[Headers: {"h":1}]')
  })

  it('does not change the exchange', async () => {
    const { ex } = await logTo('log:x', { keep: true }, { h: 1 })
    expect(ex.message).toEqual({ body: { keep: true }, headers: { h: 1 } })
    expect(ex.exception).toBeUndefined()
  })

  it('rejects an unknown level', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('direct:in').to('log:x?level=loud'))).toThrow(
      expect.objectContaining({ code: CoreErrorCodes.INVALID_OPTION }),
    )
  })
})
