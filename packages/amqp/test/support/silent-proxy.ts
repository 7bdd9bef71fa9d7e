/**
 * A TCP proxy in front of the broker that a test can make silent: from `silence()` on it forwards nothing in
 * either direction but keeps every connection open, like a broker that hangs or a network that drops packets.
 * When either side of a connection closes, the proxy closes the other, so the broker requeues what the
 * client left unacknowledged.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import type { SilentPeer } from '@dromedary/core/testing'
import { BROKER_URL } from './broker.js'

/** A started proxy: `url` points a component at it. */
export interface SilentProxy extends SilentPeer {
  readonly url: string
  close(): Promise<void>
}

export async function startSilentProxy(target = BROKER_URL): Promise<SilentProxy> {
  const broker = new URL(target)
  const clients = new Set<Socket>()
  const sockets = new Set<Socket>()
  let silent = false
  const server = createServer((client) => {
    const upstream = connect(Number(broker.port || 5672), broker.hostname)
    clients.add(client)
    const pipe = (from: Socket, to: Socket) => {
      sockets.add(from)
      from.on('data', (chunk: Buffer) => {
        if (!silent) to.write(chunk)
      })
      from.on('error', () => undefined)
      from.on('close', () => {
        sockets.delete(from)
        clients.delete(from)
        to.destroy()
      })
    }
    pipe(client, upstream)
    pipe(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(target)
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: url.toString(),
    silence() {
      silent = true
    },
    openConnections: () => clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
