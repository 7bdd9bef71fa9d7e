import { el, replaceChildren, setText, svg } from './dom.js'
import { offset } from './format.js'
import { colourOf } from './palette.js'
import { describeReport, type ShutdownTimeline } from './timeline.js'

const W = 800
const H = 220
const PAD = { left: 44, right: 16, top: 30, bottom: 28 }

/** Parts of the page the timeline fills. */
export interface TimelineElements {
  readonly outcome: HTMLElement
  readonly chart: HTMLElement
  readonly legend: HTMLElement
  readonly log: HTMLElement
}

/**
 * Draws the shutdown: the outcome line, an SVG chart of in-flight + pending per route (stacked areas) with
 * markers for NOTICE, each route's stop, NOW and stopped, a colour legend, and the same events as a text list
 * (the chart's accessible equivalent).
 */
export function renderTimeline(t: ShutdownTimeline, into: TimelineElements, now: number): void {
  renderOutcome(t, into.outcome, now)
  if (!t.started) return
  replaceChildren(into.chart, chart(t))
  replaceChildren(
    into.legend,
    ...t.routes.map((id, i) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' })
      swatch.style.backgroundColor = colourOf(i)
      return el('li', {}, swatch, el('span', { class: 'mono' }, id))
    }),
  )
  const origin = t.origin
  replaceChildren(
    into.log,
    ...t.entries.map((e) =>
      el('li', { 'data-kind': e.kind }, el('span', { class: 'mono' }, offset(e.at - origin)), ' ', e.text),
    ),
  )
}

function renderOutcome(t: ShutdownTimeline, node: HTMLElement, now: number): void {
  let text: string
  let kind = ''
  if (t.report !== undefined) {
    text = `Stopped — ${describeReport(t.report)}`
    kind = t.report.graceful ? 'graceful' : 'forced'
  } else if (t.nowAt !== undefined) text = 'NOW: closing components…'
  else if (t.noticeAt !== undefined) {
    const held = t.last?.total ?? 0
    const left =
      t.secondsLeft ?? Math.max(0, (t.secondsUntilNow ?? 0) - Math.floor((now - t.noticeAt) / 1000))
    text = `Draining: ${held} in flight and pending, timeout in ${left} s`
  } else text = 'Running: no shutdown so far.'
  setText(node, text)
  node.className = `outcome ${kind}`.trim()
}

function chart(t: ShutdownTimeline): SVGSVGElement {
  const origin = t.origin
  const end = Math.max(t.stoppedAt ?? 0, t.last?.at ?? 0, ...t.entries.map((e) => e.at), origin + 1000)
  const max = Math.max(1, ...t.samples.map((s) => s.total))
  const x = (at: number) => PAD.left + ((at - origin) / (end - origin)) * (W - PAD.left - PAD.right)
  const y = (n: number) => H - PAD.bottom - (n / max) * (H - PAD.top - PAD.bottom)
  const summary = `In-flight and pending exchanges from NOTICE (${max} at most) over ${((end - origin) / 1000).toFixed(1)} s`
  const root = svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary },
    svg('title', {}, summary),
  )
  // Stacked areas, one per route, bottom-up in first-seen order.
  const base = t.samples.map(() => 0)
  t.routes.forEach((id, i) => {
    const top = t.samples.map((s, k) => base[k]! + (s.perRoute.get(id) ?? 0))
    const upper = t.samples.map((s, k) => `${x(s.at).toFixed(1)},${y(top[k]!).toFixed(1)}`)
    const lower = t.samples.map((s, k) => `${x(s.at).toFixed(1)},${y(base[k]!).toFixed(1)}`).reverse()
    if (t.samples.length > 0)
      root.append(
        svg('polygon', {
          points: [...upper, ...lower].join(' '),
          fill: colourOf(i),
          'fill-opacity': '0.55',
          stroke: colourOf(i),
        }),
      )
    top.forEach((v, k) => (base[k] = v))
  })
  if (t.samples.length > 0)
    root.append(
      svg('polyline', {
        class: 'total',
        points: t.samples.map((s) => `${x(s.at).toFixed(1)},${y(s.total).toFixed(1)}`).join(' '),
      }),
    )
  // Axes and labels.
  root.append(
    svg('line', {
      class: 'axis',
      x1: `${PAD.left}`,
      y1: `${H - PAD.bottom}`,
      x2: `${W - PAD.right}`,
      y2: `${H - PAD.bottom}`,
    }),
    svg('line', {
      class: 'axis',
      x1: `${PAD.left}`,
      y1: `${PAD.top}`,
      x2: `${PAD.left}`,
      y2: `${H - PAD.bottom}`,
    }),
    svg('text', { x: `${PAD.left - 6}`, y: `${PAD.top + 4}`, 'text-anchor': 'end' }, String(max)),
    svg('text', { x: `${PAD.left - 6}`, y: `${H - PAD.bottom}`, 'text-anchor': 'end' }, '0'),
    svg('text', { x: `${PAD.left}`, y: `${H - 8}` }, '0 s'),
    svg(
      'text',
      { x: `${W - PAD.right}`, y: `${H - 8}`, 'text-anchor': 'end' },
      `${((end - origin) / 1000).toFixed(1)} s`,
    ),
  )
  // Labels of markers close together (a forced stop: NOTICE and NOW at once) alternate between two rows.
  let lastLabel = Number.NEGATIVE_INFINITY
  let row = 0
  for (const e of t.entries) {
    const cls = e.kind === 'route-stopped' ? 'route' : e.kind
    const px = x(e.at)
    root.append(
      svg('line', {
        class: `marker ${cls}`,
        x1: `${px}`,
        y1: `${PAD.top}`,
        x2: `${px}`,
        y2: `${H - PAD.bottom}`,
      }),
    )
    if (e.kind === 'route-stopped') continue
    row = px - lastLabel < 64 ? 1 - row : 0
    lastLabel = px
    const label = e.kind === 'stopped' ? 'stopped' : e.kind.toUpperCase()
    // Near an edge the label grows inwards, so it is never cut off.
    const anchor = px > W - PAD.right - 30 ? 'end' : px < PAD.left + 30 ? 'start' : 'middle'
    root.append(svg('text', { x: `${px}`, y: `${12 + row * 11}`, 'text-anchor': anchor }, label))
  }
  return root
}
