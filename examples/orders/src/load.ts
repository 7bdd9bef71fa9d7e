// Sends a stream of orders so you can watch a graceful shutdown under load:
//   pnpm --filter orders load            (defaults: 50 orders/s for 30 s to 127.0.0.1:8080)
//   RATE=200 DURATION_S=20 PORT=8080 pnpm --filter orders load
// Retries on 503 (draining) and refused connections, like a client behind a load balancer would.
const port = Number(process.env.PORT ?? 8080)
const rate = Number(process.env.RATE ?? 50)
const durationS = Number(process.env.DURATION_S ?? 30)
const url = `http://127.0.0.1:${port}/orders`
const counts = { accepted: 0, retried: 0, failed: 0 }

async function sendOne(n: number): Promise<void> {
  const body = JSON.stringify({
    customer: `load-${n}`,
    items: [{ sku: 'camel-plush', quantity: 1 + (n % 3) }],
  })
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      await res.arrayBuffer()
      if (res.status === 202) {
        counts.accepted++
        return
      }
      if (res.status !== 503) break
    } catch {
      // refused or reset: the instance is restarting; retry
    }
    counts.retried++
    await new Promise((r) => setTimeout(r, 250))
  }
  counts.failed++
}

const started = Date.now()
const inflight = new Set<Promise<void>>()
let n = 0
const timer = setInterval(() => {
  if (Date.now() - started > durationS * 1000) {
    clearInterval(timer)
    void Promise.all(inflight).then(() => {
      console.log(`done: ${JSON.stringify(counts)}`)
    })
    return
  }
  const p = sendOne(n++).finally(() => inflight.delete(p))
  inflight.add(p)
}, 1000 / rate)
const report = setInterval(() => console.log(JSON.stringify({ sent: n, ...counts })), 1000)
report.unref()
