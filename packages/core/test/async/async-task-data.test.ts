import { afterEach, describe, expect, it } from 'vitest'
import { captureLogger, deferred, disposeContexts, exchangesTotal, newContext } from '../support.js'

afterEach(disposeContexts)

/** Route `invite` sends caller/callee data to route `audit` on the `audit` group; `audit` waits for `gate`. */
async function auditContext(options: { failAudit?: boolean } = {}) {
  const { logger, lines } = captureLogger()
  const ctx = newContext({ logger, workerGroups: { audit: { workers: 1 } } })
  const gate = deferred()
  const auditing = deferred()
  await ctx.addRoutes((r) => {
    r.from('direct:invite')
      .routeId('invite')
      .asyncTaskData(
        'direct:audit',
        (ex) => `caller: ${String(ex.message.headers['from'])} - callee: ${String(ex.message.headers['to'])}`,
        { group: 'audit' },
      )
      .to('mock:relayed')
    r.from('direct:audit')
      .routeId('audit')
      .process(async () => {
        auditing.resolve()
        await gate.promise
        if (options.failAudit === true) throw new Error('audit store down')
      })
      .to('mock:audited')
  })
  await ctx.start()
  return { ctx, gate, auditing: auditing.promise, lines }
}

describe('asyncTaskData (Kamailio async_task_data / async_task_group_data)', () => {
  it('does not suspend the caller: it completes while the task still runs', async () => {
    const { ctx, auditing } = await auditContext()
    const ex = await ctx.producer().send('direct:invite', 'INVITE', { from: 'alice', to: 'bob' })
    await auditing

    expect(ctx.mock('relayed').receivedExchanges.map((e) => e.id)).toEqual([ex.id])
    expect(ctx.mock('audited').receivedExchanges).toHaveLength(0)
  })

  it('runs the target route with a new exchange whose body is the data', async () => {
    const { ctx, gate } = await auditContext()
    const ex = await ctx.producer().send('direct:invite', 'INVITE', { from: 'alice', to: 'bob' })
    gate.resolve()
    await ctx.mock('audited').expectedMessageCount(1).assertIsSatisfied()

    const [task] = ctx.mock('audited').receivedExchanges
    expect(task?.message.body).toBe('caller: alice - callee: bob')
    expect(task?.id).not.toBe(ex.id)
    expect(task?.message.headers).toEqual({})
  })

  it('tracks the new exchange in flight, owned by the sending route, while the target runs it', async () => {
    const { ctx, auditing } = await auditContext()
    await ctx.producer().send('direct:invite', 'INVITE', { from: 'alice', to: 'bob' })
    await auditing

    expect(ctx.inflight.browse()).toMatchObject([
      { fromRouteId: 'invite', atRouteId: 'audit', nodeId: 'process1' },
    ])
    expect(ctx.routes().map((r) => [r.id, r.inflight])).toEqual([
      ['invite', 1],
      ['audit', 1],
    ])
  })

  it('counts data waiting for a busy worker as pending of the sending route', async () => {
    const { ctx, auditing } = await auditContext()
    await ctx.producer().send('direct:invite', 1, { from: 'a', to: 'b' })
    await auditing
    await ctx.producer().send('direct:invite', 2, { from: 'c', to: 'd' })
    await ctx.producer().send('direct:invite', 3, { from: 'e', to: 'f' })

    expect(ctx.routes().find((r) => r.id === 'invite')).toMatchObject({ inflight: 1, pending: 2 })
  })

  it('logs a failed task and counts it failed on the sending route, as no caller can see it', async () => {
    const { ctx, gate, auditing, lines } = await auditContext({ failAudit: true })
    const ex = await ctx.producer().send('direct:invite', 'INVITE', { from: 'alice', to: 'bob' })
    await auditing
    gate.resolve()
    await ctx.inflight.whenEmpty()

    expect(ex.exception).toBeUndefined()
    expect(await exchangesTotal(ctx, 'invite', 'failed')).toBe(1)
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      'asyncTaskData to direct:audit failed: audit store down',
    ])
  })
})
