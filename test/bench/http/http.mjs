// http-get and http-cpu: a Dromedary HTTP route against a raw fastify handler with the same payload. The
// server and autocannon (100 connections) run in two separate processes; the runner only coordinates.
import { Child } from '../lib/child.mjs'

const serverScript = new URL('./server.child.mjs', import.meta.url)
const loadScript = new URL('./load.child.mjs', import.meta.url)

export const httpGet = {
  name: 'http',
  rows: [
    { name: 'http-get', unit: 'req/s', metric: 'requestsPerSecond', better: 'higher', target: 0.85 },
    { name: 'http-cpu', unit: 'µs CPU/req', metric: 'cpuMicrosPerRequest', better: 'lower', target: 1.2 },
  ],
  quick: { pairs: 5, connections: 100, warmupSeconds: 1, durationSeconds: 2 },
  full: { pairs: 9, connections: 100, warmupSeconds: 2, durationSeconds: 5 },
  async sample(side, c) {
    const server = new Child(serverScript, { side }, { profile: true })
    let load
    try {
      const { port } = await server.next('ready', 30_000)
      load = new Child(loadScript, {
        url: `http://127.0.0.1:${port}/bench`,
        connections: c.connections,
        warmupSeconds: c.warmupSeconds,
        durationSeconds: c.durationSeconds,
      })
      await load.next('warmed', 60_000)
      await server.request({ type: 'cpu-begin' }, 'cpu-begun')
      load.send({ type: 'go' })
      const { value } = await load.next('result', 60_000)
      const { micros } = await server.request({ type: 'cpu-end' }, 'cpu')
      return {
        requestsPerSecond: value.responses / value.seconds,
        cpuMicrosPerRequest: micros / value.responses,
      }
    } finally {
      await load?.close()
      await server.close()
    }
  },
}
