/** Calls to the token-protected management endpoints; the token lives in this tab's session storage. */

const TOKEN_KEY = 'dromedary.console.token'

/** The admin token kept for this tab (empty when none). */
export const tokenStore = {
  get(): string {
    try {
      return sessionStorage.getItem(TOKEN_KEY) ?? ''
    } catch {
      return ''
    }
  },
  set(token: string): void {
    try {
      if (token === '') sessionStorage.removeItem(TOKEN_KEY)
      else sessionStorage.setItem(TOKEN_KEY, token)
    } catch {
      // storage disabled: the token is asked for each time
    }
  },
}

/** The server's answer to an action. */
export interface ActionResult {
  readonly ok: boolean
  readonly status: number
  /** `detail` of a problem answer, the start of any other failed answer, empty for a success. */
  readonly message: string
  readonly body: unknown
}

/**
 * POSTs `body` as JSON to `path`, resolved against the page, with `Authorization: Bearer <token>` when a token
 * is given. The token never leaves this origin: the URL is checked, the request is same-origin only and
 * redirects are refused.
 */
export async function postAction(path: string, body: unknown, token: string): Promise<ActionResult> {
  const url = new URL(path, document.baseURI)
  if (url.origin !== location.origin) throw new Error(`Refusing to send the token to ${url.origin}`)
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (token !== '') headers.authorization = `Bearer ${token}`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      mode: 'same-origin',
      credentials: 'omit',
      redirect: 'error',
      cache: 'no-store',
    })
  } catch (err) {
    return { ok: false, status: 0, message: `No answer: ${String(err)}`, body: undefined }
  }
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  const detail = (parsed as { detail?: unknown } | undefined)?.detail
  const message = typeof detail === 'string' ? detail : res.ok ? '' : text.slice(0, 200)
  return { ok: res.ok, status: res.status, message, body: parsed }
}

/** The relative URL of a route action; undefined for ids a URL path cannot carry (`.` and `..`). */
export function routeActionPath(routeId: string, action: string): string | undefined {
  if (routeId === '.' || routeId === '..') return undefined
  return `routes/${encodeURIComponent(routeId)}/${action}`
}
