/** A body (or any value) as log text: strings as they are, everything else as JSON, else `String()`. */
export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body
  try {
    return JSON.stringify(body) ?? String(body)
  } catch {
    return String(body)
  }
}
