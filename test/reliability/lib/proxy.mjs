// A TCP proxy in front of the broker, run by the runner, for the silent-broker fault: `silence()` stops
// forwarding in both directions and keeps both sockets open (a frozen broker or a partition: nothing answers,
// nothing closes). When the app's side closes, the broker side is closed too, so the broker requeues.
import { connect, createServer } from 'node:net'
import { AMQP_URL } from './broker.mjs'

export async function startProxy(brokerUrl = AMQP_URL) {
  const target = new URL(brokerUrl)
  const sockets = new Set()
  let silent = false
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5672), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => sockets.delete(s))
    }
    client.on('data', (chunk) => silent || upstream.write(chunk))
    upstream.on('data', (chunk) => silent || client.write(chunk))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(brokerUrl)
  url.host = `127.0.0.1:${server.address().port}`
  return {
    url: url.href,
    silence: () => (silent = true),
    /** Connections still open through the proxy. */
    get connections() {
      return sockets.size / 2
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}
