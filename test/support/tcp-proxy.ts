/**
 * A TCP proxy on 127.0.0.1 (port 0) in front of a real server, for fault injection: `freeze()` makes the peer
 * go silent — it stops forwarding in both directions but keeps every socket open, as a hung server or a
 * black-holed network would. Closing the proxy destroys its sockets.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** Stops forwarding (both directions); sockets stay open and unread data is dropped. */
  freeze(): void
  /** Connections accepted so far. */
  readonly accepted: number
  close(): Promise<void>
}

/** Starts a proxy to `target` (`host:port`). */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let frozen = false
  let accepted = 0
  const server: Server = createServer((client) => {
    accepted++
    const upstream = connect(targetPort, targetHost)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => sockets.delete(s))
    }
    client.on('data', (chunk) => {
      if (!frozen) upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk)
    })
    client.on('end', () => {
      if (!frozen) upstream.end()
    })
    upstream.on('end', () => {
      if (!frozen) client.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    get accepted() {
      return accepted
    },
    freeze() {
      frozen = true
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
