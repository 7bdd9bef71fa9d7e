import type { LifecycleMessage, SnapshotMessage } from '../src/management/console-wire.js'

/** The state of the event stream, for the header. */
export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed'

/** What the feed calls. */
export interface FeedHandlers {
  lifecycle(message: LifecycleMessage): void
  snapshot(message: SnapshotMessage): void
  state(state: FeedState): void
}

/**
 * Listens to `GET /events` (relative to the page). The browser reconnects by itself and sends the last event id,
 * so the server replays only what was missed; lifecycle events are also de-duplicated here by sequence number.
 * Once the context has stopped, the end of the stream is final: no reconnection.
 */
export function connectFeed(url: string, handlers: FeedHandlers): { close(): void } {
  const source = new EventSource(url)
  let lastSeq = 0
  let stopped = false
  source.addEventListener('open', () => handlers.state('live'))
  source.addEventListener('lifecycle', (e) => {
    const message = parse<LifecycleMessage>(e)
    if (message === undefined || message.seq <= lastSeq) return
    lastSeq = message.seq
    if (message.event.type === 'context-stopped') stopped = true
    handlers.lifecycle(message)
  })
  source.addEventListener('snapshot', (e) => {
    const message = parse<SnapshotMessage>(e)
    if (message !== undefined) handlers.snapshot(message)
  })
  source.addEventListener('error', () => {
    if (stopped) {
      source.close()
      handlers.state('ended')
    } else handlers.state(source.readyState === EventSource.CLOSED ? 'failed' : 'reconnecting')
  })
  return { close: () => source.close() }
}

function parse<T>(e: Event): T | undefined {
  try {
    return JSON.parse((e as MessageEvent<string>).data) as T
  } catch {
    return undefined
  }
}
