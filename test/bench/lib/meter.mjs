// The measuring window of the consume benchmarks: from the first message to the last one, wall clock and
// process CPU, so connecting and declaring are outside it on both sides.

/** Counts messages; resolves `done` with the window's wall and CPU time once `count` have been seen. */
export function meter(count) {
  let n = 0
  let t0 = 0
  let cpu0
  let finish
  const done = new Promise((resolve) => (finish = resolve))
  const tick = (body) => {
    if (typeof body?.id !== 'number') throw new Error('body was not parsed')
    if (++n === 1) {
      t0 = performance.now()
      cpu0 = process.cpuUsage()
    } else if (n === count) {
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
