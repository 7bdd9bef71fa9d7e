import { errors } from '../errors.js'
import { MAX_DURATION_MS } from './duration.js'

/** One typed endpoint option. `duration` accepts ms numbers or `250ms`, `5s`, `2m`. */
export type OptionSpec =
  | { readonly type: 'number'; readonly default?: number; readonly min?: number; readonly integer?: boolean }
  | { readonly type: 'duration'; readonly default?: number; readonly min?: number }
  | { readonly type: 'boolean'; readonly default?: boolean }
  | { readonly type: 'string'; readonly default?: string }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly default?: string }

/** Option specs by name. */
export type OptionSchema = Readonly<Record<string, OptionSpec>>

type ValueOf<S extends OptionSpec> = S extends { type: 'number' | 'duration' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : string

/** The parsed options of a schema: options with a default are always present. */
export type ParsedOptions<S extends OptionSchema> = {
  [K in keyof S as S[K] extends { default: unknown } ? K : never]: ValueOf<S[K]>
} & {
  [K in keyof S as S[K] extends { default: unknown } ? never : K]?: ValueOf<S[K]>
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Validates raw URI params against a schema; errors name route, URI and the bad option. */
export function parseOptions<S extends OptionSchema>(
  routeId: string,
  uri: string,
  params: ReadonlyMap<string, string>,
  schema: S,
): ParsedOptions<S> {
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(schema)) if (spec.default !== undefined) out[name] = spec.default
  for (const [name, raw] of params) {
    // Own keys only: `?constructor=1` or `?__proto__=x` must not find Object.prototype members.
    const spec = Object.hasOwn(schema, name) ? schema[name] : undefined
    if (spec === undefined) throw errors.unknownOption(routeId, uri, name, Object.keys(schema))
    out[name] = parseValue(routeId, uri, name, raw, spec)
  }
  return out as ParsedOptions<S>
}

function parseValue(routeId: string, uri: string, name: string, raw: string, spec: OptionSpec): unknown {
  const bad = (expected: string) => errors.invalidOption(routeId, uri, name, raw, expected)
  switch (spec.type) {
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw)
      if (!Number.isFinite(n)) throw bad('a number')
      if (spec.integer === true && !Number.isInteger(n)) throw bad('an integer')
      if (spec.min !== undefined && n < spec.min) throw bad(`a number >= ${spec.min}`)
      return n
    }
    case 'duration': {
      const m = DURATION.exec(raw.trim())
      if (m === null) throw bad('a duration in ms (e.g. 250, 250ms, 5s)')
      const ms = Number(m[1]) * (UNIT[m[2] ?? 'ms'] ?? 1)
      const min = spec.min ?? 0
      // Node's timers fire at once above 2³¹−1 ms; a fraction of a ms is not a timer value either (SPEC §2).
      if (!Number.isInteger(ms) || ms < min || ms > MAX_DURATION_MS)
        throw bad(`a whole number of ms from ${min} to ${MAX_DURATION_MS}`)
      return ms
    }
    case 'boolean':
      if (raw === 'true') return true
      if (raw === 'false') return false
      throw bad('true or false')
    case 'enum':
      if (!spec.values.includes(raw)) throw bad(`one of ${spec.values.join(' | ')}`)
      return raw
    case 'string':
      return raw
  }
}
