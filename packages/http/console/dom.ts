/**
 * The only way the console makes DOM: elements with attributes and text children, text always set through
 * `textContent` (never parsed as HTML), so route ids, URIs and server messages render as the text they are.
 */

/** Attributes of `el`: strings are set with `setAttribute` (never `on…` handlers or `style`), booleans toggle. */
export type Attributes = Readonly<Record<string, string | boolean | undefined>>

/** A child: a node, or text. */
export type Child = Node | string | number | null | undefined

const SVG_NS = 'http://www.w3.org/2000/svg'

/** Creates an HTML element. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  setAttributes(node, attributes)
  append(node, children)
  return node
}

/** Creates an SVG element. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag)
  setAttributes(node, attributes)
  append(node, children)
  return node
}

/** Replaces every child of `node`. */
export function replaceChildren(node: Element, ...children: Child[]): void {
  node.replaceChildren()
  append(node, children)
}

/** Sets `node`'s text, touching the DOM only when it changed (keeps screen readers and selections calm). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text
}

/** The element with `id`, which the page must have. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const node = document.getElementById(id)
  if (!(node instanceof type)) throw new Error(`The console page has no ${type.name} #${id}`)
  return node
}

function setAttributes(node: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    if (/^on/i.test(name) || name.toLowerCase() === 'style') throw new Error(`Refusing attribute ${name}`)
    node.setAttribute(name, value === true ? '' : value)
  }
}

function append(node: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined) continue
    node.append(typeof c === 'number' ? String(c) : c)
  }
}
