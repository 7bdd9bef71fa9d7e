import { svg } from './dom.js'

const W = 80
const H = 20

/** A small line of recent rates (decorative: the current rate is in its own cell). */
export function sparkline(values: readonly number[]): SVGSVGElement {
  const root = svg('svg', {
    class: 'spark',
    width: `${W}`,
    height: `${H}`,
    viewBox: `0 0 ${W} ${H}`,
    'aria-hidden': 'true',
    focusable: 'false',
  })
  if (values.length < 2) return root
  const max = Math.max(...values.map((v) => (Number.isFinite(v) ? v : 0)), 1e-9)
  const step = W / (values.length - 1)
  const points = values.map((v, i) => {
    const n = Number.isFinite(v) ? Math.max(0, v) : 0
    return `${(i * step).toFixed(1)},${(H - 1 - (n / max) * (H - 2)).toFixed(1)}`
  })
  root.append(svg('polyline', { points: points.join(' ') }))
  return root
}
