import type { SnapshotMessage, WireInflightExchange } from '../src/management/console-wire.js'
import { postAction, routeActionPath, tokenStore, type ActionResult } from './actions.js'
import { confirmAction } from './confirm-dialog.js'
import { byId, setText } from './dom.js'
import { connectFeed, type FeedState } from './feed.js'
import { InflightView } from './inflight-view.js'
import { enable, isEnabled, RoutesView, type RouteAction } from './routes-view.js'
import { ShutdownTimeline } from './timeline.js'
import { renderTimeline, type TimelineElements } from './timeline-view.js'
import { renderWorkers } from './workers-view.js'

// The console's entry point: wires the event feed to the views and the buttons to the management endpoints.

const INFLIGHT_LIMIT = 100
const LEVEL_CLASS: ReadonlyMap<string, string> = new Map([
  ['running', 'running'],
  ['pending', 'pending'],
  ['shutdown', 'shutdown'],
])
const FEED_TEXT: Record<FeedState, string> = {
  connecting: 'Connecting to the event stream…',
  live: 'Live',
  reconnecting: 'Connection lost; reconnecting…',
  ended: 'The context has stopped; the event stream ended.',
  failed: 'The event stream is closed (the management server is shutting down or gone).',
}

const tbody = (id: string) => byId(id, HTMLTableElement).tBodies[0]!
const result = byId('action-result', HTMLElement)
const state = byId('context-state', HTMLElement)
const connection = byId('connection', HTMLElement)
const timeline = new ShutdownTimeline()
const timelineElements: TimelineElements = {
  outcome: byId('timeline-outcome', HTMLElement),
  chart: byId('timeline-chart', HTMLElement),
  legend: byId('timeline-legend', HTMLElement),
  log: byId('timeline-log', HTMLElement),
}
const routes = new RoutesView(tbody('routes'), (id, action) => void routeAction(id, action))
const inflight = new InflightView(
  tbody('inflight'),
  byId('inflight-route', HTMLSelectElement),
  byId('inflight-summary', HTMLElement),
)
let latest: SnapshotMessage | undefined
let inflightRequest: Promise<void> | undefined

connectFeed('events', {
  lifecycle(message) {
    routes.patchLoad(message.load)
    if (timeline.lifecycle(message)) renderTimeline(timeline, timelineElements, Date.now())
  },
  snapshot(s) {
    latest = s
    setText(byId('context-name', HTMLElement), s.context.name)
    const { status, shutdownLevel } = s.context
    setText(state, status === 'stopped' ? 'stopped' : `${status} · ${shutdownLevel}`)
    state.className = `badge ${status === 'stopped' ? 'stopped' : (LEVEL_CLASS.get(shutdownLevel) ?? '')}`
    routes.render(s.routes, status !== 'stopped')
    enable(byId('stop-graceful', HTMLButtonElement), status === 'started')
    enable(byId('stop-forced', HTMLButtonElement), status === 'started' || status === 'stopping')
    setText(
      byId('routes-hint', HTMLElement),
      `Rate: exchanges finished per second. Percentiles over the last ${s.windowSeconds} s.`,
    )
    inflight.setRoutes(s.routes.map((r) => r.id))
    if (inflight.routeId === undefined) inflight.render(s.inflight.size, s.inflight.oldest)
    else refreshFilteredInflight()
    renderWorkers(tbody('workers'), s.workerGroups)
    timeline.snapshot(s)
    renderTimeline(timeline, timelineElements, s.at)
  },
  state(s) {
    setText(connection, FEED_TEXT[s])
    if (s !== 'live' && s !== 'connecting')
      state.className = s === 'ended' ? 'badge stopped' : 'badge disconnected'
  },
})

inflight.onFilter(() => {
  if (inflight.routeId === undefined && latest !== undefined)
    inflight.render(latest.inflight.size, latest.inflight.oldest)
  else refreshFilteredInflight()
})

for (const [id, force] of [
  ['stop-graceful', false],
  ['stop-forced', true],
] as const) {
  const button = byId(id, HTMLButtonElement)
  button.addEventListener('click', () => {
    if (isEnabled(button)) void stopContext(force)
  })
}
byId('forget-token', HTMLButtonElement).addEventListener('click', () => {
  tokenStore.set('')
  show('The token was forgotten for this tab.', true)
})

/** Lists one route's in-flight exchanges from `GET /inflight` (no token needed). */
function refreshFilteredInflight(): void {
  const routeId = inflight.routeId
  if (routeId === undefined || inflightRequest !== undefined) return
  const url = `inflight?routeId=${encodeURIComponent(routeId)}&limit=${INFLIGHT_LIMIT}`
  inflightRequest = fetch(url, { mode: 'same-origin', credentials: 'omit', cache: 'no-store' })
    .then(async (res) => {
      if (!res.ok || inflight.routeId !== routeId) return
      const body = (await res.json()) as { size: number; exchanges: WireInflightExchange[] }
      inflight.render(body.size, body.exchanges)
    })
    .catch(() => undefined)
    .finally(() => (inflightRequest = undefined))
}

async function routeAction(routeId: string, action: RouteAction): Promise<void> {
  const label = `${action[0]!.toUpperCase()}${action.slice(1)} route ${routeId}`
  const path = routeActionPath(routeId, action)
  if (path === undefined) return show(`${label}: this route id cannot be addressed in a URL.`, false)
  const what =
    action === 'stop'
      ? `Stops route "${routeId}" gracefully: intake stops, its in-flight exchanges complete.`
      : `${label}.`
  const answer = await confirmAction({ title: `${label}?`, text: what })
  if (answer === undefined) return
  show(`${label}: sent…`, true)
  const res = await postAction(path, {}, answer.token)
  const route = (res.body as { route?: { status?: unknown } } | undefined)?.route
  const status = res.ok && typeof route?.status === 'string' ? route.status : undefined
  report(label, res, status === undefined ? undefined : `the route is ${status}`)
  if (status !== undefined) routes.patchStatus(routeId, status)
}

async function stopContext(force: boolean): Promise<void> {
  const label = force ? 'Force stop the context' : 'Stop the context gracefully'
  const answer = await confirmAction({
    title: `${label}?`,
    text: force
      ? 'NOTICE and NOW at once: in-flight exchanges are aborted; acknowledged work is not lost.'
      : 'NOTICE, intake stops, in-flight work drains, then NOW. Watch it on the shutdown timeline.',
    askTimeout: !force,
  })
  if (answer === undefined) return
  show(`${label}: sent…`, true)
  const body = force ? { force: true } : answer.timeoutMs === undefined ? {} : { timeoutMs: answer.timeoutMs }
  report(label, await postAction('shutdown', body, answer.token), 'watch the shutdown timeline')
}

function report(label: string, res: ActionResult, success?: string): void {
  if (res.status === 401) tokenStore.set('')
  const status = res.status === 0 ? '' : ` (HTTP ${res.status})`
  const message = res.ok ? (success ?? res.message) : res.message
  show(`${label}: ${res.ok ? 'accepted' : 'refused'}${status}${message === '' ? '' : `: ${message}`}`, res.ok)
}

function show(text: string, ok: boolean): void {
  setText(result, text)
  result.className = ok ? '' : 'error'
}
