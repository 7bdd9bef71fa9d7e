import { MAX_DURATION_MS, validateDuration } from '@dromedary/core'
import { isFormBody } from '../request-body.js'
import { ProblemError } from './problem-error.js'

/** What a field of a management body (or query) holds. */
export type FieldKind =
  | { readonly type: 'boolean' }
  /** Whole milliseconds from `min` (default 0) to 2 147 483 647, checked by core's `validateDuration`. */
  | { readonly type: 'duration'; readonly min?: number }
  /** A whole number from 0 up. */
  | { readonly type: 'count' }

/** A field's value once validated. */
export type FieldValue<K extends FieldKind> = K extends { type: 'boolean' } ? boolean : number

/** The fields a body may carry, by name. */
export type FieldSchema = Readonly<Record<string, FieldKind>>

/** A body's validated fields: those present, typed. */
export type Fields<S extends FieldSchema> = { -readonly [N in keyof S]?: FieldValue<S[N]> }

/**
 * Validates a management request body against `schema`, all fields before any is used: an unknown field, a value
 * of the wrong type (a JSON `"5000"` is not a number), or a duration out of range (`1e12`, `-1`, `1.5`) is a
 * `ProblemError` 400 naming the field. No body is `{}`. A form body (`application/x-www-form-urlencoded`) has only
 * strings, so there a number or boolean may be written as one.
 */
export function validateBody<S extends FieldSchema>(body: unknown, schema: S): Fields<S> {
  const b = objectBody(body)
  const form = isFormBody(body)
  for (const name of Object.keys(b))
    if (!Object.hasOwn(schema, name))
      throw new ProblemError(400, `Unknown field "${name}" (allowed: ${Object.keys(schema).join(', ')})`)
  return validateFields(b, schema, form)
}

/** Validates query parameters (always strings) against `schema`; other parameters are left alone. */
export function validateQuery<S extends FieldSchema>(
  query: Readonly<Record<string, unknown>>,
  schema: S,
): Fields<S> {
  return validateFields(query, schema, true)
}

function validateFields<S extends FieldSchema>(
  source: Readonly<Record<string, unknown>>,
  schema: S,
  stringsAllowed: boolean,
): Fields<S> {
  const out: Record<string, boolean | number> = {}
  for (const [name, kind] of Object.entries(schema)) {
    if (!Object.hasOwn(source, name) || source[name] === undefined) continue
    out[name] = fieldValue(name, source[name], kind, stringsAllowed)
  }
  return out as Fields<S>
}

function fieldValue(name: string, raw: unknown, kind: FieldKind, stringsAllowed: boolean): boolean | number {
  if (kind.type === 'boolean') {
    if (typeof raw === 'boolean') return raw
    if (stringsAllowed && (raw === 'true' || raw === 'false')) return raw === 'true'
    throw new ProblemError(400, `Field "${name}" has value ${show(raw)}, expected true or false`)
  }
  const value =
    stringsAllowed && typeof raw === 'string' && /^\s*-?\d+(?:\.\d+)?(?:e\d+)?\s*$/i.test(raw)
      ? Number(raw)
      : raw
  if (kind.type === 'count') {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
    throw new ProblemError(400, `Field "${name}" has value ${show(raw)}, expected a whole number from 0`)
  }
  try {
    return validateDuration(name, value, kind.min ?? 0)
  } catch {
    throw new ProblemError(
      400,
      `Field "${name}" has value ${show(raw)}, expected a whole number of milliseconds from ${kind.min ?? 0} to ${MAX_DURATION_MS}`,
    )
  }
}

/** A JSON object body; no body is `{}`. */
function objectBody(body: unknown): Readonly<Record<string, unknown>> {
  if (body === undefined || body === null) return {}
  if (Buffer.isBuffer(body) && body.length === 0) return {}
  if (typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body))
    return body as Record<string, unknown>
  throw new ProblemError(400, 'The body must be a JSON object (Content-Type: application/json)')
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
