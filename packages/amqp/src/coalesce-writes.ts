/**
 * amqplib hands frames to its socket one at a time: its multiplexer (`Mux`, one per connection) reads each
 * channel's queued frames in a `setImmediate` and writes them to the socket one `write()` each. The socket is
 * mostly empty, so each frame — every ack of a consumer, every publish — is its own system call. Corking the
 * socket for one pass of the multiplexer sends what the pass wrote in one `writev`: the same bytes, in the same
 * order, in the same event-loop turn. In the amqp-consume profile the socket writes were ~4–5 µs per message,
 * the largest single cost of the client; coalesced, the client's CPU per message fell by ~1.5–2 µs.
 *
 * amqplib has no public API for this; it keeps the multiplexer as `connection.muxer` (method `_readIncoming`) and
 * the socket as `connection.stream`. When either is missing (a different amqplib), nothing is changed: the
 * connection works as before, one write per frame. The package's tests check that the pinned amqplib has them.
 * @internal
 */
export function coalesceWrites(connection: unknown): boolean {
  const c = connection as {
    muxer?: { _readIncoming?: unknown }
    stream?: { cork?: unknown; uncork?: unknown }
  }
  const mux = c.muxer
  const socket = c.stream
  if (
    mux === undefined ||
    socket === undefined ||
    typeof mux._readIncoming !== 'function' ||
    typeof socket.cork !== 'function' ||
    typeof socket.uncork !== 'function'
  )
    return false
  const pass = mux._readIncoming as (this: unknown) => void
  const cork = socket.cork as (this: unknown) => void
  const uncork = socket.uncork as (this: unknown) => void
  mux._readIncoming = function coalesced(this: unknown): void {
    cork.call(socket)
    try {
      pass.call(this)
    } finally {
      uncork.call(socket)
    }
  }
  return true
}
