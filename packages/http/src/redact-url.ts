/** What replaces a credential or a query value in a redacted URL. */
export const REDACTED = '***'

/**
 * The URL as it may appear in errors and logs: user and password replaced by `***`, every query value replaced
 * by `***` (names kept, so `?token=***&page=***` still says which parameters were sent), the fragment dropped.
 * A string that is not a URL is redacted the same way by pattern, never returned as it is.
 * @example redactUrl('https://bob:pw@api.example/x?token=abc') // 'https://***:***@api.example/x?token=***'
 */
export function redactUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return redactByPattern(url)
  }
  const auth =
    u.username === '' && u.password === ''
      ? ''
      : u.password === ''
        ? `${REDACTED}@`
        : `${REDACTED}:${REDACTED}@`
  const query = u.search === '' ? '' : `?${redactQuery(u.search.slice(1))}`
  return `${u.protocol}//${auth}${u.host}${u.pathname}${query}`
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=')
      return eq === -1 ? part : `${part.slice(0, eq)}=${REDACTED}`
    })
    .join('&')
}

function redactByPattern(text: string): string {
  const hash = text.indexOf('#')
  const noFragment = hash === -1 ? text : text.slice(0, hash)
  const q = noFragment.indexOf('?')
  const base = (q === -1 ? noFragment : noFragment.slice(0, q)).replace(
    /^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i,
    `$1${REDACTED}@`,
  )
  return q === -1 ? base : `${base}?${redactQuery(noFragment.slice(q + 1))}`
}
