import { validateHeaderName, validateHeaderValue } from 'node:http'
import type { ResponseHeaders } from './request-target.js'

/** True for a body that is piped as it is (a Node or web stream). */
export function isStream(body: unknown): boolean {
  return typeof (body as { pipe?: unknown }).pipe === 'function'
}

/** The first header in `headers` Node would refuse to send (bad name or value), or undefined. */
export function invalidHeader(headers: ResponseHeaders): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name)
      if (Array.isArray(value)) for (const v of value) validateHeaderValue(name, v)
      else validateHeaderValue(name, String(value))
    } catch {
      return name
    }
  }
  return undefined
}
