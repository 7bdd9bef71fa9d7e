import type { ShutdownLevel } from '../spi/component.js'

/** What built-in components may read from their context beyond the public SPI. @internal */
export interface CoreInternals {
  /** The context's shutdown level, as a cell read on every send (a plain field, no getter chain, issue 20). */
  readonly level: { readonly value: ShutdownLevel }
  /** Counts messages dropped from an in-memory queue no route consumes (`dromedary_messages_dropped_total`). */
  recordDropped(endpoint: string, count: number): void
}
