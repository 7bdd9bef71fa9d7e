import type { ShutdownLevel } from '../spi/component.js'

/** What built-in components may read from their context beyond the public SPI. @internal */
export interface CoreInternals {
  readonly shutdownLevel: ShutdownLevel
  /** Counts messages dropped from an in-memory queue no route consumes (`dromedary_messages_dropped_total`). */
  recordDropped(endpoint: string, count: number): void
}
