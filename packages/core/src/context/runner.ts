import type { ShutdownReport } from '../shutdown/report.js'
import type { Logger } from '../spi/logger.js'

/** Options of `ctx.run()`. */
export interface RunOptions {
  /** Signals that start a shutdown; a second one forces it. @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[]
  /** Exit the process when stopped: 0 after a graceful stop (`report.graceful`), 1 otherwise. @default true */
  exit?: boolean
}

/** What the runner needs of the context. @internal */
export interface Runnable {
  start(): Promise<void>
  stop(): Promise<ShutdownReport>
  forceStop(): Promise<ShutdownReport>
  whenStopped(): Promise<ShutdownReport>
  readonly logger: Logger
}

/** Starts the context and wires signals: first → graceful `stop()`, second → `forceStop()`. @internal */
export async function runContext(ctx: Runnable, options: RunOptions = {}): Promise<ShutdownReport> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  const exit = options.exit ?? true
  let received = 0
  const onSignal = (signal: NodeJS.Signals) => {
    received++
    if (received === 1) {
      ctx.logger.info({ signal }, `Received ${signal}: starting graceful shutdown (send it again to force)`)
      void ctx.stop()
    } else {
      ctx.logger.warn({ signal }, `Received ${signal} (second signal): forcing shutdown now`)
      void ctx.forceStop()
    }
  }
  // Like a server, run() holds the process open until stopped, even when no route owns a socket or timer
  // (direct/seda only); signal handlers alone do not keep Node's event loop alive.
  const keepAlive = setInterval(() => undefined, 2 ** 30)
  const release = () => {
    clearInterval(keepAlive)
    for (const s of signals) process.off(s, onSignal)
  }
  for (const s of signals) process.on(s, onSignal)
  try {
    await ctx.start()
  } catch (err) {
    release()
    throw err
  }
  const how = signals.length === 0 ? 'stop()' : signals.join(' or ')
  ctx.logger.info({ signals }, `Running: ${how} stops it gracefully, a second one forces`)
  const report = await ctx.whenStopped()
  release()
  if (exit) process.exit(report.graceful ? 0 : 1)
  return report
}
