import autocannon from 'autocannon'
import { afterEach, describe, expect, it } from 'vitest'
import { deferred, nextEvent, send, startHttp, type Running } from './support.js'

let running: Running | undefined
afterEach(async () => {
  await running?.ctx.forceStop()
  running = undefined
})

/** What autocannon's per-connection client exposes to `setupClient` (internal, not in its typings). */
interface CannonClient {
  on(event: 'headers', fn: (info: { headers: string[] }) => void): void
  on(event: 'request', fn: () => void): void
  on(event: 'response', fn: (statusCode: number) => void): void
  _doRequest: (...args: unknown[]) => unknown
}

describe('http under load', () => {
  it('a graceful stop mid-run answers every request with 2xx or 503, resets nothing, and completes in-flight ones', async () => {
    const completed = new Set<string>()
    // One long request holds the drain open until the clients have met a 503, so the run always covers both.
    const hold = deferred()
    const holding = deferred()
    running = await startHttp((r) => {
      r.from('http:/work?method=GET')
        .routeId('work')
        .delay(20)
        .process((ex) => {
          completed.add(ex.id)
        })
        .setBody(() => ({ ok: true }))
      r.from('http:/hold?method=GET')
        .routeId('hold')
        .process(async () => {
          holding.resolve()
          await hold.promise
        })
        .setBody(() => 'held')
    })
    const { ctx, port } = running

    // Client side. autocannon writes its next request on a connection right after an answer that said
    // `Connection: close`, where a compliant client (undici, browsers, Node's agent) opens a new connection.
    // The patch makes its clients compliant, and lets the test stop new sends at NOW the way a load balancer
    // stops routing once readiness is down; every request sent must then be answered.
    let halted = false
    let sent = 0
    let answered = 0
    const allAnswered = deferred()
    const errors: string[] = []
    const firstResponses = deferred()
    const setupClient = (client: CannonClient) => {
      let closing = false
      const doRequest = client._doRequest
      client._doRequest = function (this: unknown, ...args: unknown[]) {
        if (closing || halted) {
          closing = false
          return undefined
        }
        return doRequest.apply(this, args)
      }
      client.on('headers', ({ headers }) => {
        for (let i = 0; i < headers.length; i += 2)
          if (headers[i]!.toLowerCase() === 'connection' && headers[i + 1]!.toLowerCase() === 'close')
            closing = true
      })
      client.on('request', () => sent++)
      client.on('response', (statusCode) => {
        if (statusCode === 503) hold.resolve()
        if (++answered === 2000) firstResponses.resolve()
        if (halted && answered === sent) allAnswered.resolve()
      })
    }
    let finish!: (err: Error | null, result: autocannon.Result) => void
    const result = new Promise<autocannon.Result>((resolve, reject) => {
      finish = (err, r) => (err === null ? resolve(r) : reject(err))
    })
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/work`,
        connections: 100,
        duration: 10,
        sampleInt: 100,
        setupClient: setupClient as unknown as NonNullable<autocannon.Options['setupClient']>,
      },
      (err, r) => finish(err as Error | null, r),
    )
    instance.on('reqError', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message))

    // Stop mid-run once the server is busy; NOW waits for the client to have every answer.
    await firstResponses.promise
    const held = send(port, 'GET', '/hold')
    await holding.promise
    let inflightAtNotice: string[] = []
    ctx.onShutdownNotice(() => {
      inflightAtNotice = ctx.inflight.browse({ routeId: 'work' }).map((e) => e.exchangeId)
    })
    ctx.onShutdownNow(async () => {
      halted = true
      if (answered === sent) allAnswered.resolve()
      await allAnswered.promise
      instance.stop()
      // autocannon destroys its clients at its next sample tick; until then they reconnect after each close.
      // Like a load balancer that stopped routing, the load is gone before the server stops listening.
      await result
    })
    const progress = nextEvent(ctx, 'shutdown-notice')
    const report = await ctx.stop({ timeoutMs: 10_000 })
    await progress
    const r = await result
    const heldAnswer = await held

    const text = await ctx.metrics!.metrics()
    const metric = (status: number) =>
      Number(
        new RegExp(`dromedary_http_requests_total\\{route="work",status="${status}"\\} (\\d+)`).exec(
          text,
        )?.[1],
      )
    const counts = {
      sent,
      answered,
      '2xx': r['2xx'],
      '503': r.statusCodeStats?.['503']?.count ?? 0,
      other: r.non2xx - (r.statusCodeStats?.['503']?.count ?? 0),
      errors: r.errors,
      timeouts: r.timeouts,
      reqErrors: errors.length,
      reqErrorCodes: [...new Set(errors)],
      inflightAtNotice: inflightAtNotice.length,
      server200: metric(200),
      server503: metric(503),
      shutdownMs: report.durationMs,
      held: heldAnswer.status,
    }
    console.log('http load: graceful stop mid-run', counts)

    expect(report.graceful).toBe(true)
    expect(inflightAtNotice.length).toBeGreaterThan(0)
    expect(inflightAtNotice.every((id) => completed.has(id))).toBe(true)
    expect(counts.errors).toBe(0)
    expect(counts.timeouts).toBe(0)
    expect(counts.reqErrors).toBe(0)
    expect(counts.other).toBe(0)
    expect(counts['503']).toBeGreaterThan(0)
    expect(counts.answered).toBe(counts.sent)
    expect(counts['2xx'] + counts['503']).toBe(counts.sent)
    expect(counts.server200).toBe(counts['2xx'])
    expect(counts.server503).toBe(counts['503'])
    expect(completed.size).toBe(counts.server200)
    expect(heldAnswer.status).toBe(200)
  })
})
