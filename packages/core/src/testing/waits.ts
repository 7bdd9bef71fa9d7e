/**
 * Bounded waits. Every wait for an event ends the moment it comes; `until` polls only state that no event
 * announces (a broker's queue depth); `quiet` is the one wait that always lasts, used to observe an absence.
 * None leaves a timer behind.
 * @internal
 */

/** Resolves with `promise`, or rejects after `ms` saying what did not happen. */
export async function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const text = typeof what === 'string' ? what : what()
      reject(new Error(`Timed out after ${ms} ms waiting for ${text}`))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const POLL_MS = 5

/** Checks `condition` every few milliseconds until it holds; after `ms`, rejects with `describe()`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  ms: number,
  describe: () => string | Promise<string>,
): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    if (await condition()) return
    if (Date.now() >= end) throw new Error(`Timed out after ${ms} ms: ${await describe()}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/** Waits `ms`: the window in which something that must not happen would have happened. */
export function quiet(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
