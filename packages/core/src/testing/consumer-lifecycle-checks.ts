import type { ConsumerCheck } from './consumer-shutdown-checks.js'
import { CONFORMANCE_ROUTE_ID } from './harness.js'
import { connectionsDropped, silentPeerOf } from './silent-peer.js'
import { quiet, within } from './waits.js'

const always = (): boolean => true

const suspendResume: ConsumerCheck = {
  title: 'holds intake while suspended and takes it up again on resume',
  applies: (c) => c.canSuspend,
  async run(s) {
    const h = await s.open()
    const first = s.ids('before', Math.min(s.n, Number.isFinite(s.concurrency) ? s.concurrency : 2))
    await h.feedAndHold(first, s.concurrency)
    await h.ctx.suspendRoute(CONFORMANCE_ROUTE_ID)
    s.is.equal(h.info().status, 'suspended', 'the route reports suspended')
    h.probe.releaseAll()
    const wanted = h.feeds ? first.length : 1
    await h.probe.until(
      () => h.probe.completed.length >= wanted,
      s.t.waitMs,
      'exchanges in flight at the suspend to complete while suspended',
    )
    const startedAtSuspend = h.probe.started.length
    const during = s.ids('during', 2)
    await h.feed(during)
    await quiet(s.t.quietMs)
    s.is.equal(h.probe.started.slice(startedAtSuspend), [], 'a suspended route creates no exchange')
    await h.ctx.resumeRoute(CONFORMANCE_ROUTE_ID)
    s.is.equal(h.info().status, 'started', 'the route reports started after resume')
    await h.consume(s.ids('after', 2), 'the resumed route to consume new messages')
    await s.finish(h, 'across suspend and resume')
  },
}

const routeRestart: ConsumerCheck = {
  title: 'consumes again when its stopped route is started',
  applies: always,
  async run(s) {
    const h = await s.open()
    await h.consume(s.ids('first', 2), 'the first messages to complete')
    s.is.equal(
      await h.ctx.stopRoute(CONFORMANCE_ROUTE_ID, { timeoutMs: s.t.stopTimeoutMs }),
      true,
      'stopRoute stops the route',
    )
    s.is.equal(h.info().status, 'stopped', 'the route reports stopped')
    await h.ctx.startRoute(CONFORMANCE_ROUTE_ID)
    s.is.equal(h.info().status, 'started', 'the route reports started again')
    await h.consume(s.ids('again', 2), 'the restarted route to consume')
    await s.finish(h, 'across a route restart')
  },
}

const takeOver: ConsumerCheck = {
  title: 'lets a new context on the same source take over what the last one left',
  applies: always,
  async run(s) {
    const one = await s.openHolding('takeover')
    const ids = s.ids('takeover')
    const { stopping } = await one.stopUntilIntakeClosed()
    one.probe.releaseAll()
    s.is.that((await stopping).graceful, 'the first context stops gracefully')
    const two = await s.open()
    // A durable source still holds what the first context left; what a request-reply source refused, its
    // senders send again, now to the new context.
    if (s.subject.capabilities.durable !== true) await two.feed(await s.returned())
    const fresh = s.ids('fresh', 2)
    await two.feed(fresh)
    const completed = () => [...one.probe.completed, ...two.probe.completed]
    await two.probe.until(
      () =>
        one.feeds
          ? [...ids, ...fresh].every((id) => completed().includes(id))
          : two.probe.completed.length > 0,
      s.t.waitMs,
      'the new context to consume what the first left and what came after',
    )
    await two.ctx.stop({ timeoutMs: s.t.stopTimeoutMs })
    const fed = one.feeds ? [...ids, ...fresh] : [...one.fed, ...two.fed]
    s.exact(fed, completed(), await s.returned(), 'across two contexts')
  },
}

const silentStop: ConsumerCheck = {
  title: 'stops within timeoutMs + nowBudgetMs + 1 s and drops its connections when the peer goes silent',
  applies: (c) => c.silentPeer === true,
  async run(s) {
    const peer = silentPeerOf(s.fixture)
    const h = await s.openHolding('silent')
    await peer.silence()
    const bound = s.t.shortTimeoutMs + s.t.nowBudgetMs + 1000
    const stopping = h.ctx.stop({ timeoutMs: s.t.shortTimeoutMs })
    h.probe.releaseAll()
    await within(stopping, bound, `stop() to resolve within ${bound} ms with a silent peer`)
    s.is.equal(h.ctx.status, 'stopped', 'the context is stopped')
    await connectionsDropped(peer, s.t.waitMs)
  },
}

const silentForce: ConsumerCheck = {
  title: 'force-stops within nowBudgetMs + 1 s and drops its connections when the peer goes silent',
  applies: (c) => c.silentPeer === true,
  async run(s) {
    const peer = silentPeerOf(s.fixture)
    const h = await s.openHolding('silent')
    await peer.silence()
    const bound = s.t.nowBudgetMs + 1000
    const report = await within(
      h.ctx.forceStop(),
      bound,
      `forceStop() to resolve within ${bound} ms with a silent peer`,
    )
    s.is.that(report.forced, 'the stop is reported forced')
    await connectionsDropped(peer, s.t.waitMs)
  },
}

/** The lifecycle half of the consumer contract. @internal */
export const lifecycleChecks: readonly ConsumerCheck[] = [
  suspendResume,
  routeRestart,
  takeOver,
  silentStop,
  silentForce,
]
