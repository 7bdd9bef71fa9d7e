// Clients that go silent mid-request (not a test file: vitest only collects *.test.ts).
import { connect, type Socket } from 'node:net'
import type { SilentPeer } from '@dromedary/core/testing'

/**
 * The unresponsive peer of an HTTP server: `silence()` opens `count` connections that send the start of a request
 * (headers never finished) and then send nothing more, keeping the connection open. They do read, so they see
 * the server close them: `openConnections()` counts those it has not closed yet.
 */
export function silentClients(port: () => number, count = 3): SilentPeer & { close(): void } {
  const open = new Set<Socket>()
  return {
    async silence() {
      await Promise.all(
        Array.from(
          { length: count },
          () =>
            new Promise<void>((resolve, reject) => {
              const socket = connect(port(), '127.0.0.1', () => {
                socket.write(
                  'POST /conformance HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n',
                )
                resolve()
              })
              open.add(socket)
              socket.resume()
              socket.on('error', reject)
              socket.on('close', () => open.delete(socket))
            }),
        ),
      )
    },
    openConnections: () => open.size,
    close() {
      for (const s of open) s.destroy()
    },
  }
}
