import { filter, firstValueFrom } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { CoreErrorCodes, isDromedaryError } from '@dromedary/core'
import type { IntegrationContext } from '@dromedary/core'
import { disposeContexts, newContext } from '../support.js'

afterEach(disposeContexts)

const E = CoreErrorCodes

async function twoRoutes(): Promise<IntegrationContext> {
  const ctx = newContext()
  await ctx.addRoutes((r) => {
    r.from('seda:work').routeId('work').to('mock:worked')
    r.from('direct:admin')
      .routeId('admin')
      .toD((ex) => `controlbus:route?${String(ex.message.body)}`)
  })
  await ctx.start()
  return ctx
}

const status = (ctx: IntegrationContext, id: string) => ctx.routes().find((r) => r.id === id)?.status

describe('controlbus:route', () => {
  it('action=status replies with the route status', async () => {
    const ctx = await twoRoutes()
    await expect(ctx.producer().request('controlbus:route?routeId=work&action=status', null)).resolves.toBe(
      'started',
    )
  })

  it('defaults to action=status', async () => {
    const ctx = await twoRoutes()
    await ctx.suspendRoute('work')
    await expect(ctx.producer().request('controlbus:route?routeId=work', null)).resolves.toBe('suspended')
  })

  it('action=suspend suspends the route and action=resume resumes it', async () => {
    const ctx = await twoRoutes()
    await ctx.producer().request('direct:admin', 'routeId=work&action=suspend')
    expect(status(ctx, 'work')).toBe('suspended')
    await ctx.producer().request('direct:admin', 'routeId=work&action=resume')
    expect(status(ctx, 'work')).toBe('started')
  })

  it('action=stop stops the route without waiting for it inside the exchange', async () => {
    const ctx = await twoRoutes()
    const stopped = firstValueFrom(
      ctx.events$.pipe(filter((e) => e.type === 'route-stopped' && e.routeId === 'work')),
    )
    await ctx.producer().request('direct:admin', 'routeId=work&action=stop')
    await stopped
    expect(status(ctx, 'work')).toBe('stopped')
    expect(status(ctx, 'admin')).toBe('started')
  })

  it('action=start starts a stopped route', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('seda:work').routeId('work').autoStartup(false).to('mock:worked'))
    await ctx.start()
    await ctx.producer().request('controlbus:route?routeId=work&action=start', null)
    expect(status(ctx, 'work')).toBe('started')
  })

  it('lets a route stop itself from inside one of its own exchanges', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) =>
      r.from('seda:self').routeId('self').to('controlbus:route?routeId=self&action=stop'),
    )
    await ctx.start()
    const stopped = firstValueFrom(ctx.events$.pipe(filter((e) => e.type === 'route-stopped')))
    await ctx.producer().send('seda:self', null)
    await expect(stopped).resolves.toMatchObject({ routeId: 'self' })
  })

  it('fails the exchange for an unknown route id with DROMEDARY_ERR_UNKNOWN_ROUTE', async () => {
    const ctx = await twoRoutes()
    for (const action of ['status', 'stop', 'suspend']) {
      const ex = await ctx.producer().send(`controlbus:route?routeId=ghost&action=${action}`, null)
      expect(isDromedaryError(ex.exception, E.UNKNOWN_ROUTE)).toBe(true)
    }
  })

  it('needs a routeId', () => {
    const ctx = newContext()
    expect(() =>
      ctx.addRoutes((r) => r.from('direct:a').routeId('a').to('controlbus:route?action=stop')),
    ).toThrow(expect.objectContaining({ code: E.INVALID_URI }))
  })

  it('rejects an unknown action naming it', () => {
    const ctx = newContext()
    let err: unknown
    try {
      void ctx.addRoutes((r) =>
        r.from('direct:a').routeId('a').to('controlbus:route?routeId=a&action=explode'),
      )
    } catch (e) {
      err = e
    }
    expect(isDromedaryError(err, E.INVALID_OPTION)).toBe(true)
    expect((err as Error).message).toContain('"explode"')
  })

  it('rejects a target other than route or context', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('direct:a').to('controlbus:jvm'))).toThrow(
      expect.objectContaining({ code: E.INVALID_URI }),
    )
  })

  it('cannot be consumed from', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('controlbus:route?routeId=x'))).toThrow(
      expect.objectContaining({ code: E.NOT_A_CONSUMER }),
    )
  })
})

describe('controlbus:context', () => {
  it('action=stop stops the whole context gracefully', async () => {
    const ctx = newContext()
    await ctx.addRoutes((r) => r.from('direct:shutdown').to('controlbus:context?action=stop'))
    await ctx.start()
    await ctx.producer().send('direct:shutdown', null)
    const report = await ctx.whenStopped()
    expect(report.graceful).toBe(true)
    expect(ctx.status).toBe('stopped')
  })

  it('defaults to action=stop', async () => {
    const ctx = newContext()
    await ctx.start()
    await ctx.producer().send('controlbus:context', null)
    await ctx.whenStopped()
    expect(ctx.status).toBe('stopped')
  })

  it('knows no other action', () => {
    const ctx = newContext()
    expect(() => ctx.addRoutes((r) => r.from('direct:a').to('controlbus:context?action=suspend'))).toThrow(
      expect.objectContaining({ code: E.INVALID_OPTION }),
    )
  })
})
