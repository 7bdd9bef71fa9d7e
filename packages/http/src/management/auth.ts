import { createHash, timingSafeEqual } from 'node:crypto'

/** The outcome of checking a request's `Authorization` header. */
export type AuthVerdict = 'ok' | 'unauthorized' | 'disabled'

/**
 * Returns the check of `Authorization: Bearer <token>` for mutating endpoints: `disabled` when no token is
 * configured (they answer 403), else a constant-time comparison. Both sides are hashed first so neither the
 * content nor the length of the token leaks through timing.
 */
export function createTokenCheck(token: string | undefined): (authorization: unknown) => AuthVerdict {
  if (token === undefined || token === '') return () => 'disabled'
  const expected = sha256(token)
  return (authorization) => {
    if (typeof authorization !== 'string') return 'unauthorized'
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
    if (m === null) return 'unauthorized'
    return timingSafeEqual(sha256(m[1]!), expected) ? 'ok' : 'unauthorized'
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest()
}
