import type { ShutdownRunningTask } from '../spi/component.js'
import { CONFORMANCE_ROUTE_ID, routeOf } from './harness.js'
import type { ConsumerScope } from './scope.js'
import type { ConsumerCapabilities } from './subject.js'
import { quiet } from './waits.js'

/** One check of the consumer contract. @internal */
export interface ConsumerCheck {
  /** A behaviour sentence (the test name). */
  readonly title: string
  applies(capabilities: ConsumerCapabilities): boolean
  run(scope: ConsumerScope): Promise<void>
}

const always = (): boolean => true

const consumesOnce: ConsumerCheck = {
  title: 'consumes every message exactly once and stops gracefully',
  applies: always,
  async run(s) {
    const h = await s.open()
    const ids = s.ids('once')
    await h.feed(ids)
    const want = h.feeds ? ids.length : 3
    await h.probe.until(() => h.probe.completed.length >= want, s.t.waitMs, `${want} exchanges to complete`)
    const report = await h.ctx.stop({ timeoutMs: s.t.stopTimeoutMs })
    s.is.equal(
      { graceful: report.graceful, timedOut: report.timedOut, aborted: routeOf(report).aborted },
      { graceful: true, timedOut: false, aborted: 0 },
      'a stop with nothing left to do is graceful and aborts nothing',
    )
    s.is.equal(h.info().status, 'stopped', 'the route is stopped once the context stopped')
    const returned = await s.returned()
    s.is.equal(returned, [], 'nothing went back to the source: the route consumed every message while it ran')
    s.exact(h.fed, h.probe.completed, returned, 'after a graceful stop')
  },
}

const intakeStops: ConsumerCheck = {
  title: 'creates no exchange from input that arrives after prepareShutdown',
  applies: always,
  async run(s) {
    const h = await s.openHolding('early')
    const openGate = h.strategy.pauseAfterPrepare()
    try {
      const { stopping, first } = await h.stopUntilIntakeClosed()
      // A deferring consumer (seda) closes its intake only after the other routes drained, itself included.
      if (first.call === 'deferred') h.probe.releaseAll()
      const prepared = await h.strategy.when(
        (c) => c.routeId === CONFORMANCE_ROUTE_ID && c.call === 'prepared',
        s.t.waitMs,
        'prepareShutdown of the route under test to return',
      )
      const startedBefore = h.probe.started.length
      const late = h.feeds ? s.ids('late') : []
      await h.feed(late)
      await quiet(s.t.quietMs)
      const after = h.probe.started.slice(startedBefore)
      s.is.equal(
        after.filter((id) => late.includes(id)),
        [],
        'no exchange is created from a message that arrived after prepareShutdown returned',
      )
      s.is.that(
        after.length <= prepared.pending,
        `after prepareShutdown only work already taken (pending: ${prepared.pending}) may start, but ${after.length} exchanges started: ${after.join(', ')}`,
      )
      openGate()
      h.probe.releaseAll()
      const report = await stopping
      s.is.that(report.graceful, 'the stop is graceful')
      const returned = await s.returned()
      s.is.equal(
        late.filter((id) => !returned.includes(id)),
        [],
        'every message that arrived after prepareShutdown is returned to its source or sender',
      )
      s.exact(h.fed, h.probe.completed, returned, 'after a graceful stop')
    } finally {
      openGate()
    }
  },
}

const pendingIsTrue: ConsumerCheck = {
  title: 'reports in-flight and pending work truly',
  applies: always,
  async run(s) {
    const h = await s.openHolding('count')
    const ids = s.ids('count')
    const held = h.probe.held.length
    const info = h.info()
    const atSource = await h.atSource()
    s.is.equal(
      { inflight: info.inflight, inflightRepository: h.ctx.inflight.size(CONFORMANCE_ROUTE_ID) },
      { inflight: held, inflightRepository: held },
      'every exchange the route runs counts in flight, and only those',
    )
    s.is.equal(
      info.pending,
      h.feeds ? ids.length - held - atSource : 0,
      `pending counts the messages the consumer took but did not start (fed ${ids.length}, in flight ${held}, at the source ${atSource})`,
    )
    h.probe.releaseAll()
    if (h.feeds)
      await h.probe.until(
        () => h.probe.completed.length >= ids.length,
        s.t.waitMs,
        'every message to complete',
      )
    await h.ctx.inflight.whenEmpty([CONFORMANCE_ROUTE_ID])
    const idle = h.info()
    s.is.equal(
      { inflight: idle.inflight, pending: idle.pending },
      { inflight: 0, pending: 0 },
      'an idle route has nothing in flight or pending',
    )
    await h.ctx.stop({ timeoutMs: s.t.stopTimeoutMs })
  },
}

function gracefulStop(task: ShutdownRunningTask): ConsumerCheck {
  return {
    title: `loses and duplicates nothing in a graceful stop (${task})`,
    applies: always,
    async run(s) {
      const h = await s.openHolding('graceful', task)
      const { stopping } = await h.stopUntilIntakeClosed()
      h.probe.releaseAll()
      const report = await stopping
      const r = routeOf(report)
      s.is.equal(
        { graceful: report.graceful, timedOut: report.timedOut, aborted: r.aborted },
        { graceful: true, timedOut: false, aborted: 0 },
        'the stop is graceful and aborts nothing',
      )
      const returned = await s.returned()
      s.exact(h.fed, h.probe.completed, returned, 'after a graceful stop')
      // What a route finishes: what it ran, plus what it took but had not started unless it hands that back.
      const handsBackPending = s.subject.capabilities.handsBack && task === 'completeCurrentTaskOnly'
      const want = r.inflightAtStart + (handsBackPending ? 0 : r.pendingAtStart)
      s.is.equal(
        h.probe.completed.length,
        want,
        `${task} completes the ${r.inflightAtStart} exchanges in flight at the stop${handsBackPending ? ' and hands the pending ones back' : ` and the ${r.pendingAtStart} pending ones`}`,
      )
    },
  }
}

const forcedStop: ConsumerCheck = {
  title: 'hands back or counts as aborted every unfinished message in a forced stop',
  applies: always,
  async run(s) {
    const h = await s.openHolding('forced')
    const report = await h.ctx.forceStop()
    s.is.that(report.forced, 'forceStop() reports a forced stop')
    const fed = [...h.fed]
    const returned = await s.returned()
    const unfinished = fed.filter((id) => !h.probe.completed.includes(id))
    const missing = unfinished.filter((id) => !returned.includes(id))
    const aborted = routeOf(report).aborted
    if (s.subject.capabilities.handsBack)
      s.is.equal(missing, [], 'every unfinished message goes back to its source or sender')
    else
      s.is.equal(
        aborted,
        missing.length,
        `every unfinished message that was not returned is counted as aborted in the report (${missing.length} unfinished, not returned)`,
      )
    s.is.equal(h.info().status, 'stopped', 'the route is stopped')
  },
}

const abortReaches: ConsumerCheck = {
  title: 'aborts in-flight exchanges through exchange.signal when a stop runs out of time',
  applies: always,
  async run(s) {
    const h = await s.openHolding('abort')
    const held = h.probe.held
    const report = await h.ctx.stop({ timeoutMs: s.t.shortTimeoutMs })
    s.is.equal(
      { timedOut: report.timedOut, forced: report.forced, graceful: report.graceful },
      { timedOut: true, forced: true, graceful: false },
      'a stop whose in-flight work never finishes times out and is forced',
    )
    s.is.equal([...h.probe.aborted].sort(), [...held].sort(), 'every exchange in flight saw its signal abort')
    s.is.equal(
      h.probe.completed.filter((id) => held.includes(id)),
      [],
      'no further step ran for an aborted exchange',
    )
    s.is.that(
      routeOf(report).aborted >= held.length,
      `the report counts the ${held.length} aborted exchanges (it says ${routeOf(report).aborted})`,
    )
  },
}

/** The shutdown half of the consumer contract. @internal */
export const shutdownChecks: readonly ConsumerCheck[] = [
  consumesOnce,
  intakeStops,
  pendingIsTrue,
  gracefulStop('completeCurrentTaskOnly'),
  gracefulStop('completeAllTasks'),
  forcedStop,
  abortReaches,
]
