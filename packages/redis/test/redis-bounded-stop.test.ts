/**
 * A Redis that goes silent with the socket open (a TCP proxy that stops forwarding) must not hold a shutdown:
 * once the deadline signal aborts, the consumer's prepareShutdown/stop and the component's close return at once,
 * and the unfinished entries stay for the next consumer (nothing acknowledged is lost).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { stopAgainstSilentPeer } from '../../../test/support/silent-peer.js'
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.js'
import { redisComponent } from '../src/index.js'
import { useRedis } from './support/server.js'

const suite = useRedis()
let proxy: TcpProxy | undefined
afterEach(async () => {
  await proxy?.close()
  proxy = undefined
})

describe('redis against a silent server', () => {
  it('stop and close end within the deadline once the signal aborts; the entries stay pending', async () => {
    const redis = suite.redis
    const stream = redis.key('silent')
    await redis.addNumbers(stream, 3)
    proxy = await startTcpProxy('127.0.0.1', 6379)
    const deadlineMs = 300
    const elapsed = await stopAgainstSilentPeer({
      component: redisComponent({ url: `redis://127.0.0.1:${proxy.port}` }),
      proxy,
      uri: `redis:stream:${stream}?group=g&consumer=c&batch=1`,
      deadlineMs,
    })
    console.log(`bounded stop: ${Math.round(elapsed)} ms (deadline ${deadlineMs} ms)`)
    expect(elapsed).toBeLessThan(deadlineMs + 1000)

    // Nothing was acknowledged: one entry is pending (it ran), two were never delivered.
    expect(await redis.remaining(stream, 'g')).toBe(3)
    expect(await redis.pendingCount(stream, 'g')).toBe(1)
  })
})
