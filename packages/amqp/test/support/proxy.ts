/**
 * A TCP proxy in front of the shared broker that a test owns, for faults that must never touch the broker
 * itself: `silence()` stops forwarding in both directions but keeps both sockets open (a frozen broker or a
 * partitioned network: nothing answers, nothing closes); `cut()` destroys every connection (a process
 * crash or a reset, seen from the broker); `refuse()` stops accepting new connections.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { BROKER_URL } from './broker.js'

export interface TcpProxy {
  /** The broker URL with the proxy's address. */
  readonly url: string
  /** Connections currently open through the proxy. */
  readonly connections: number
  silence(): void
  cut(): void
  refuse(): void
  close(): Promise<void>
}

/** Starts a proxy on 127.0.0.1, port 0, forwarding to the broker. */
export async function startProxy(brokerUrl: string = BROKER_URL): Promise<TcpProxy> {
  const target = new URL(brokerUrl)
  const sockets = new Set<Socket>()
  let silent = false
  const track = (s: Socket): void => {
    sockets.add(s)
    s.on('error', () => undefined)
    s.on('close', () => sockets.delete(s))
  }
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5672), target.hostname)
    track(client)
    track(upstream)
    client.on('data', (chunk) => {
      if (!silent) upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!silent) client.write(chunk)
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(brokerUrl)
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  // Resolves once every connection is gone too (server.close waits for them).
  const closed = new Promise<void>((resolve) => server.on('close', () => resolve()))
  const refuse = () => {
    if (server.listening) server.close()
  }
  return {
    url: url.href,
    get connections() {
      return sockets.size / 2
    },
    silence() {
      silent = true
    },
    cut() {
      for (const s of sockets) s.destroy()
    },
    refuse,
    async close() {
      refuse()
      for (const s of sockets) s.destroy()
      await closed
    },
  }
}
