import type { WireWorkerGroup } from '../src/management/console-wire.js'
import { el, replaceChildren } from './dom.js'
import { count } from './format.js'

/** Shows the async worker groups: busy workers and queued tasks. */
export function renderWorkers(body: HTMLTableSectionElement, groups: readonly WireWorkerGroup[]): void {
  if (groups.length === 0) {
    replaceChildren(body, el('tr', {}, el('td', { colspan: '3' }, 'No worker group figures (metrics off?).')))
    return
  }
  replaceChildren(
    body,
    ...groups.map((g) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row', class: 'mono' }, g.name),
        el('td', { class: 'num' }, count(g.busy)),
        el('td', { class: 'num' }, count(g.queued)),
      ),
    ),
  )
}
