// The load generator, in its own process: autocannon against the server under test. A warm-up run first,
// then, on `go`, the measured run; it reports completed 2xx responses per second.
import { nextMessage, params, reportResult, sendAsync } from '../lib/child.mjs'
import autocannon from 'autocannon'

const { url, connections, warmupSeconds, durationSeconds } = params()

const fire = (duration) => autocannon({ url, connections, duration, pipelining: 1 })

await reportResult(async () => {
  await fire(warmupSeconds)
  await sendAsync({ type: 'warmed' })
  await nextMessage('go')
  const r = await fire(durationSeconds)
  if (r.errors > 0 || r.timeouts > 0 || r.non2xx > 0)
    throw new Error(`${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx responses`)
  return { responses: r['2xx'], seconds: r.duration }
})
