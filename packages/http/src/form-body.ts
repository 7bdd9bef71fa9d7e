/** Bodies parsed from `application/x-www-form-urlencoded`, so a reader can tell them from JSON objects. */
const forms = new WeakSet<object>()

/** An urlencoded form as an object; a key given more than once becomes an array. */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k]
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  forms.add(out)
  return out
}

/** True for a body that came from a form, whose values are all strings (a JSON body's have their own types). */
export function isFormBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && forms.has(body)
}
