import { errors } from '../errors.js'

/** The longest delay Node's timers honour (2³¹−1 ms); a longer one would fire after ~1 ms. */
export const MAX_DURATION_MS = 2_147_483_647

/**
 * Validates a duration option (SPEC §2): a finite integer number of milliseconds from `min` (default 0) to
 * 2 147 483 647. Anything else — `NaN`, `Infinity`, `-1`, `1.5`, `2 ** 32`, `'soon'` — is refused with
 * `DROMEDARY_ERR_INVALID_OPTION` naming the option and the value, never clamped by `setTimeout`.
 * @example const timeoutMs = validateDuration('shutdown.timeoutMs', options.timeoutMs ?? 300_000)
 */
export function validateDuration(option: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_DURATION_MS)
    throw errors.invalidDuration(option, value, min)
  return value
}
