/**
 * Bounded waits on the broker. Every wait of a stop (cancel-ok, close-ok, outstanding confirms) ends when
 * the broker answers, when `timeoutMs` passes or when the shutdown's `signal` aborts, whichever is first:
 * a broker that stays silent must never hold a shutdown.
 */

/**
 * Resolves `true` once `work` settles (fulfilled or rejected), `false` if `timeoutMs` passes or `signal`
 * aborts first. The timer is unref'd and cleared, the abort listener removed, either way.
 * @internal
 */
export function settlesWithin(
  work: Promise<unknown>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false)
  return new Promise<boolean>((resolve) => {
    const finish = (settled: boolean): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve(settled)
    }
    const onAbort = (): void => finish(false)
    const timer = setTimeout(() => finish(false), timeoutMs)
    timer.unref()
    signal?.addEventListener('abort', onAbort, { once: true })
    work.then(
      () => finish(true),
      () => finish(true),
    )
  })
}
