import type { ShutdownLevel } from '../spi/component.js'

/** What built-in components may read from their context beyond the public SPI. @internal */
export interface CoreInternals {
  readonly shutdownLevel: ShutdownLevel
}
