/**
 * A server that goes silent with the socket open (a TCP proxy that stops forwarding) must not hold a shutdown:
 * once the deadline signal aborts, the consumer's prepareShutdown/stop and the component's close return at once,
 * and the unfinished message is redelivered after ack_wait (nothing acknowledged is lost).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { stopAgainstSilentPeer } from '../../../test/support/silent-peer.js'
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.js'
import { natsComponent } from '../src/index.js'
import { useNats } from './support/server.js'

const suite = useNats()
let proxy: TcpProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

describe('nats against a silent server', () => {
  it('stop and close end within the deadline once the signal aborts; the message comes back after ack_wait', async () => {
    const nats = suite.nats
    const stream = await nats.stream('silent')
    await nats.publishNumbers(stream, 3)
    proxy = await startTcpProxy('127.0.0.1', 4222)
    const deadlineMs = 300
    const elapsed = await stopAgainstSilentPeer({
      component: natsComponent({ servers: `127.0.0.1:${proxy.port}`, reconnectTimeWaitMs: 60_000 }),
      proxy,
      uri: `nats:stream:${stream}?consumer=c&batch=1&ackWaitMs=2000`,
      deadlineMs,
    })
    console.log(`bounded stop: ${Math.round(elapsed)} ms (deadline ${deadlineMs} ms)`)
    expect(elapsed).toBeLessThan(deadlineMs + 1000)

    // Nothing was acknowledged: all three come back (the running one after ack_wait).
    const seen = new Set<number>()
    for (let i = 0; i < 10 && seen.size < 3; i++)
      await nats.fetch(stream, 'c', 3, (m) => {
        seen.add(m.json<{ n: number }>().n)
        m.ack()
      })
    expect([...seen].sort()).toEqual([0, 1, 2])
  })
})
