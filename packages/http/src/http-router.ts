/** The HTTP methods an inbound route can be bound to; `ANY` accepts every method. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'] as const

/** One of `HTTP_METHODS`. */
export type HttpMethod = (typeof HTTP_METHODS)[number]

/** A route found for a request, with its decoded `:param` values. */
export interface RouteMatch<T> {
  readonly value: T
  readonly params: Record<string, string>
}

/** One registration: the value and the parameter names it was registered with. */
interface Binding<T> {
  readonly value: T
  readonly names: readonly string[]
}

/** The routes registered under one path shape (`/a/:x` and `/a/:y` are one shape), by method. */
interface PathEntry<T> {
  /** `null` marks a `:param` segment. */
  readonly segments: readonly (string | null)[]
  readonly byMethod: Map<HttpMethod, Binding<T>>
}

/**
 * Method + path dispatch for the catch-all handler of one server: static paths are one map lookup, paths with
 * `:param` segments are matched segment by segment. Trailing slashes are ignored. Entries can be replaced
 * (a restarted route) but never removed, so a stopped route's path keeps answering through its handler.
 */
export class HttpRouter<T> {
  readonly #static = new Map<string, PathEntry<T>>()
  readonly #dynamic: PathEntry<T>[] = []
  readonly #byShape = new Map<string, PathEntry<T>>()

  /** Registers (or replaces) `value` for `method` on `pattern`; returns the value it replaced. */
  set(method: HttpMethod, pattern: string, value: T): T | undefined {
    const path = normalize(pattern)
    const parts = path.split('/').slice(1)
    const segments = parts.map((s) => (s.startsWith(':') ? null : s))
    const names = parts.filter((s) => s.startsWith(':')).map((s) => s.slice(1))
    const shape = '/' + parts.map((s) => (s.startsWith(':') ? ':' : s)).join('/')
    let entry = this.#byShape.get(shape)
    if (entry === undefined) {
      entry = { segments, byMethod: new Map() }
      this.#byShape.set(shape, entry)
      if (names.length === 0) this.#static.set(path, entry)
      else this.#dynamic.push(entry)
    }
    const previous = entry.byMethod.get(method)?.value
    entry.byMethod.set(method, { value, names })
    return previous
  }

  /** The value registered for exactly `method` on the shape of `pattern` (`/a/:x` and `/a/:y` are one shape). */
  get(method: HttpMethod, pattern: string): T | undefined {
    const shape = normalize(pattern).replace(/\/:[^/]*/g, '/:')
    return this.#byShape.get(shape)?.byMethod.get(method)?.value
  }

  /** The route for a request: exact method, then GET for HEAD, then ANY; static paths win over `:param` ones. */
  find(method: string, rawPath: string): RouteMatch<T> | undefined {
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath
    const entry = this.#static.get(path)
    if (entry !== undefined) {
      const b = pick(entry.byMethod, method)
      if (b !== undefined) return { value: b.value, params: {} }
    }
    if (this.#dynamic.length === 0) return undefined
    const parts = path.split('/')
    for (const d of this.#dynamic) {
      if (!matches(d.segments, parts)) continue
      const b = pick(d.byMethod, method)
      if (b !== undefined) return { value: b.value, params: paramsOf(d.segments, b.names, parts) }
    }
    return undefined
  }

  /** The methods registered for a path (to answer 405 with `Allow`); empty when the path is unknown. */
  allowed(rawPath: string): HttpMethod[] {
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath
    const out = new Set<HttpMethod>(this.#static.get(path)?.byMethod.keys())
    const parts = path.split('/')
    for (const d of this.#dynamic)
      if (matches(d.segments, parts)) for (const m of d.byMethod.keys()) out.add(m)
    return [...out]
  }
}

/** Checks a route path as written in a URI; returns why it is invalid, or undefined. */
export function checkPath(pattern: string): string | undefined {
  const path = normalize(pattern)
  if (path.includes('?') || path.includes('#')) return 'a path cannot contain "?" or "#"'
  if (/\/\//.test(path)) return 'empty path segment'
  const names = new Set<string>()
  for (const s of path.split('/').slice(1)) {
    if (!s.startsWith(':')) continue
    const name = s.slice(1)
    if (!/^[A-Za-z_][\w-]*$/.test(name)) return `bad parameter segment "${s}"`
    if (names.has(name)) return `parameter ":${name}" appears twice`
    names.add(name)
  }
  return undefined
}

/** `orders/` → `/orders`: one leading slash, no trailing one. */
export function normalize(pattern: string): string {
  let p = pattern.startsWith('/') ? pattern : `/${pattern}`
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1)
  return p
}

function pick<T>(byMethod: ReadonlyMap<HttpMethod, Binding<T>>, method: string): Binding<T> | undefined {
  return (
    byMethod.get(method as HttpMethod) ??
    (method === 'HEAD' ? byMethod.get('GET') : undefined) ??
    byMethod.get('ANY')
  )
}

function matches(segments: readonly (string | null)[], parts: readonly string[]): boolean {
  // parts[0] is the empty string before the leading slash.
  if (parts.length !== segments.length + 1) return false
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]
    const part = parts[i + 1]
    if (s === null ? part === '' : s !== part) return false
  }
  return true
}

function paramsOf(
  segments: readonly (string | null)[],
  names: readonly string[],
  parts: readonly string[],
): Record<string, string> {
  const params: Record<string, string> = {}
  let n = 0
  for (let i = 0; i < segments.length; i++)
    if (segments[i] === null) params[names[n++]!] = decode(parts[i + 1]!)
  return params
}

function decode(segment: string): string {
  if (!segment.includes('%')) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
