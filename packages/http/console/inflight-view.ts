import type { WireInflightExchange } from '../src/management/console-wire.js'
import { el, replaceChildren, setText } from './dom.js'
import { count, millis } from './format.js'

/** The in-flight table (oldest first) and its route filter. */
export class InflightView {
  readonly #body: HTMLTableSectionElement
  readonly #filter: HTMLSelectElement
  readonly #summary: HTMLElement
  #routeIds: readonly string[] = []

  constructor(body: HTMLTableSectionElement, filter: HTMLSelectElement, summary: HTMLElement) {
    this.#body = body
    this.#filter = filter
    this.#summary = summary
  }

  /** The route chosen in the filter, or undefined for all. */
  get routeId(): string | undefined {
    return this.#filter.value === '' ? undefined : this.#filter.value
  }

  /** Calls `fn` when the filter changes. */
  onFilter(fn: () => void): void {
    this.#filter.addEventListener('change', fn)
  }

  /** Offers these route ids in the filter, keeping the current choice. */
  setRoutes(ids: readonly string[]): void {
    if (ids.length === this.#routeIds.length && ids.every((id, i) => id === this.#routeIds[i])) return
    this.#routeIds = [...ids]
    const chosen = this.#filter.value
    replaceChildren(
      this.#filter,
      el('option', { value: '' }, 'All routes'),
      ...ids.map((id) => el('option', { value: id }, id)),
    )
    this.#filter.value = ids.includes(chosen) ? chosen : ''
  }

  /** Shows the exchanges (already oldest first) out of `size` in flight. */
  render(size: number, exchanges: readonly WireInflightExchange[]): void {
    const scope = this.routeId === undefined ? '' : ` in route ${this.routeId}`
    setText(
      this.#summary,
      size === 0
        ? `Nothing in flight${scope}.`
        : `${count(size)} in flight${scope}; the ${count(exchanges.length)} oldest first.`,
    )
    replaceChildren(
      this.#body,
      ...exchanges.map((x) =>
        el(
          'tr',
          {},
          el('td', { class: 'mono' }, x.exchangeId),
          el('td', { class: 'mono' }, x.fromRouteId),
          el('td', { class: 'mono' }, x.atRouteId),
          el('td', { class: 'mono' }, x.nodeId === '' ? '–' : x.nodeId),
          el('td', { class: 'num' }, millis(x.durationMs)),
          el('td', { class: 'num' }, millis(x.elapsedMs)),
        ),
      ),
    )
  }
}
