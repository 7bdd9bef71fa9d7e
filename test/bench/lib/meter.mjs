// The measuring window of the consume benchmarks: wall clock and process CPU from the first message after the
// warm-up to the last one, so connecting, declaring and the JIT's first compilations are outside it on both
// sides (a 15,000-message window from the very first message was 40–60 % warm-up: the same consumer used
// 22 µs CPU per message over 15,000 messages and 13.7 µs over 60,000).

/**
 * Counts messages; the window opens at message `warmup + 1` and `done` resolves with its wall and CPU time once
 * `warmup + count` have been seen.
 */
export function meter(count, warmup = 0) {
  let n = 0
  let t0 = 0
  let cpu0
  let finish
  const done = new Promise((resolve) => (finish = resolve))
  const tick = (body) => {
    if (typeof body?.id !== 'number') throw new Error('body was not parsed')
    if (++n === warmup + 1) {
      t0 = performance.now()
      cpu0 = process.cpuUsage()
    } else if (n === warmup + count) {
      const cpu = process.cpuUsage(cpu0)
      finish({ ms: performance.now() - t0, cpuMicros: cpu.user + cpu.system })
    }
  }
  return { tick, done }
}

/** The two consume rows' figures from a window: the window spans count - 1 intervals. */
export function consumeResult(count, { ms, cpuMicros }) {
  return { messagesPerSecond: ((count - 1) * 1000) / ms, cpuMicrosPerMessage: cpuMicros / (count - 1) }
}
