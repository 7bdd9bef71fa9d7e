import type { WireRoute, WireRouteLoad } from '../src/management/console-wire.js'
import { el, replaceChildren, setText } from './dom.js'
import { count, rate, seconds } from './format.js'
import { sparkline } from './sparkline.js'

/** The route actions the console offers. */
export type RouteAction = 'start' | 'suspend' | 'resume' | 'stop'

const ACTIONS: ReadonlyArray<{ action: RouteAction; label: string }> = [
  { action: 'start', label: 'Start' },
  { action: 'suspend', label: 'Suspend' },
  { action: 'resume', label: 'Resume' },
  { action: 'stop', label: 'Stop' },
]

/** Which actions make sense in each known status; any other status offers them all. */
const ENABLED: ReadonlyMap<string, readonly RouteAction[]> = new Map([
  ['started', ['suspend', 'stop']],
  ['suspended', ['resume', 'stop']],
  ['stopped', ['start']],
])

/** Statuses with a colour of their own (any other string is shown as it is, in a neutral badge). */
const KNOWN_STATUS = new Set(['started', 'suspended', 'stopped', 'stopping'])

interface Row {
  readonly tr: HTMLTableRowElement
  readonly cells: Record<'from' | 'inflight' | 'pending' | 'rate' | 'p50' | 'p99' | 'outcomes', HTMLElement>
  readonly status: HTMLElement
  readonly spark: HTMLElement
  readonly buttons: ReadonlyMap<RouteAction, HTMLButtonElement>
}

/**
 * The routes table, updated in place each snapshot (rows are kept by route id, so a focused button keeps its
 * focus). Route ids and URIs are user data: they are only ever set as text.
 */
export class RoutesView {
  readonly #body: HTMLTableSectionElement
  readonly #onAction: (routeId: string, action: RouteAction) => void
  readonly #rows = new Map<string, Row>()
  #controls = true

  constructor(body: HTMLTableSectionElement, onAction: (routeId: string, action: RouteAction) => void) {
    this.#body = body
    this.#onAction = onAction
  }

  /** Shows `routes` (in the order given); `controls` false disables every action (the context has stopped). */
  render(routes: readonly WireRoute[], controls: boolean): void {
    this.#controls = controls
    const seen = new Set<string>()
    routes.forEach((r, i) => {
      seen.add(r.id)
      let row = this.#rows.get(r.id)
      if (row === undefined) this.#rows.set(r.id, (row = this.#row(r.id)))
      this.#update(row, r)
      if (this.#body.children[i] !== row.tr) this.#body.insertBefore(row.tr, this.#body.children[i] ?? null)
    })
    for (const [id, row] of this.#rows)
      if (!seen.has(id)) {
        row.tr.remove()
        this.#rows.delete(id)
      }
  }

  /** Applies the in-flight and pending counts that came with a lifecycle event, between snapshots. */
  patchLoad(load: readonly WireRouteLoad[]): void {
    for (const r of load) {
      const row = this.#rows.get(r.id)
      if (row === undefined) continue
      setText(row.cells.inflight, count(r.inflight))
      setText(row.cells.pending, count(r.pending))
    }
  }

  /** Applies one route's new status at once (from an action's answer), before the next snapshot. */
  patchStatus(routeId: string, status: string): void {
    const row = this.#rows.get(routeId)
    if (row !== undefined) this.#setStatus(row, status)
  }

  #row(id: string): Row {
    const td = (cls = '') => el('td', cls === '' ? {} : { class: cls })
    const cells = {
      from: td('mono'),
      inflight: td('num'),
      pending: td('num'),
      rate: td('num'),
      p50: td('num'),
      p99: td('num'),
      outcomes: td('num'),
    }
    const status = el('span', { class: 'badge' })
    const spark = td()
    const buttons = new Map<RouteAction, HTMLButtonElement>()
    const actions = el('td', { class: 'row-actions' })
    for (const { action, label } of ACTIONS) {
      const b = el(
        'button',
        { type: 'button', 'aria-label': `${label} route ${id}`, 'data-action': action },
        label,
      )
      b.addEventListener('click', () => {
        if (isEnabled(b)) this.#onAction(id, action)
      })
      buttons.set(action, b)
      actions.append(b)
    }
    const tr = el(
      'tr',
      {},
      el('th', { scope: 'row', class: 'mono' }, id),
      cells.from,
      el('td', {}, status),
      cells.inflight,
      cells.pending,
      cells.rate,
      spark,
      cells.p50,
      cells.p99,
      cells.outcomes,
      actions,
    )
    return { tr, cells, status, spark, buttons }
  }

  #update(row: Row, r: WireRoute): void {
    setText(row.cells.from, r.from)
    setText(row.cells.inflight, count(r.inflight))
    setText(row.cells.pending, count(r.pending))
    setText(row.cells.rate, rate(r.rate))
    setText(row.cells.p50, seconds(r.p50))
    setText(row.cells.p99, seconds(r.p99))
    setText(row.cells.outcomes, `${count(r.completed)} · ${count(r.failed)} · ${count(r.aborted)}`)
    replaceChildren(row.spark, sparkline(r.history))
    this.#setStatus(row, r.status)
  }

  #setStatus(row: Row, status: string): void {
    setText(row.status, status)
    row.status.className = KNOWN_STATUS.has(status) ? `badge ${status}` : 'badge'
    const enabled = this.#controls ? ENABLED.get(status) : []
    for (const [action, b] of row.buttons) enable(b, enabled === undefined || enabled.includes(action))
  }
}

/**
 * Enables or disables a button. The focused one is only marked `aria-disabled` (and its clicks ignored, see
 * `isEnabled`): disabling it would drop keyboard focus back to the start of the page.
 */
export function enable(button: HTMLButtonElement, on: boolean): void {
  if (!on && document.activeElement === button) {
    button.setAttribute('aria-disabled', 'true')
    return
  }
  button.removeAttribute('aria-disabled')
  button.disabled = !on
}

/** False for a button that `enable` turned off. */
export function isEnabled(button: HTMLButtonElement): boolean {
  return !button.disabled && button.getAttribute('aria-disabled') !== 'true'
}
