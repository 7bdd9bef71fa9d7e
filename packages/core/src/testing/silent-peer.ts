import type { SilentPeer } from './subject.js'
import { until } from './waits.js'

/** The fixture's silent peer, which its subject's capabilities promised. @internal */
export function silentPeerOf(fixture: { readonly silentPeer?: SilentPeer }): SilentPeer {
  const peer = fixture.silentPeer
  if (peer === undefined) throw new Error('capabilities.silentPeer is set, but the fixture has no silentPeer')
  return peer
}

/** Waits until the component closed every connection to the silent peer (it must, once its context stopped). */
export async function connectionsDropped(peer: SilentPeer, waitMs: number): Promise<void> {
  await until(
    () => peer.openConnections() === 0,
    waitMs,
    () =>
      `the component to close its ${peer.openConnections()} connections to the silent peer after it stopped`,
  )
}
