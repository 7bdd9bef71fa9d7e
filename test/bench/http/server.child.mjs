// The HTTP server under test, in its own process: a Dromedary HTTP route (ours) or a raw fastify handler
// (baseline), both answering GET /bench with the same JSON payload. It reports its port, and measures its
// own CPU time between `cpu-begin` and `cpu-end` (process.cpuUsage: user + system, this process only).
import { createContext } from '@dromedary/core'
import { httpComponent } from '@dromedary/http'
import { nextMessage, params, reportError, sendAsync } from '../lib/child.mjs'
import { importDependencyOf } from '../lib/deps.mjs'
import { PAYLOAD } from './payload.mjs'

const { side } = params()

async function startOurs() {
  const http = httpComponent({ port: 0, host: '127.0.0.1' })
  const ctx = createContext({ logger: false, components: { http } })
  ctx.addRoutes((r) => r.from('http:/bench?method=GET').routeId('bench').setBody(PAYLOAD))
  await ctx.start()
  return { port: http.address.port, close: () => ctx.stop() }
}

async function startBaseline() {
  const Fastify = await importDependencyOf('http', 'fastify')
  const app = Fastify({ logger: false })
  app.get('/bench', async () => PAYLOAD)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { port: app.server.address().port, close: () => app.close() }
}

try {
  const server = side === 'ours' ? await startOurs() : await startBaseline()
  process.on('message', (m) => {
    if (m?.type !== 'cpu-begin') return
    const start = process.cpuUsage()
    void sendAsync({ type: 'cpu-begun' })
    void nextMessage('cpu-end').then(() => {
      const d = process.cpuUsage(start)
      return sendAsync({ type: 'cpu', micros: d.user + d.system })
    })
  })
  await sendAsync({ type: 'ready', port: server.port })
  await nextMessage('exit')
  await server.close()
  process.exit(0)
} catch (err) {
  await reportError(err)
}
