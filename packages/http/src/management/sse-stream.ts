import { PassThrough, type Readable } from 'node:stream'

/** Response headers of a Server-Sent Events stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  // Tells a buffering reverse proxy (nginx) to pass each event on at once.
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
}

/** One message of the stream (the SSE `event`, `id` and `data` fields). */
export interface SseMessage {
  readonly event: string
  readonly data: string
  readonly id?: number
}

/**
 * Formats one message: `event:`, optional `id:`, one `data:` line per line of `data` (any of `\r\n`, `\r`, `\n`
 * ends a line in SSE, so each becomes its own field), then the blank line that dispatches it. The event name
 * must not contain a line break; it is ours, never user data.
 */
export function formatSse(message: SseMessage): string {
  let out = `event: ${message.event}\n`
  if (message.id !== undefined) out += `id: ${message.id}\n`
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return `${out}\n`
}

/**
 * One open event stream. Writes are dropped once it has ended; a client that stops reading is cut off when
 * `maxBufferedBytes` pile up, so a stalled browser tab cannot grow the server's memory.
 */
export class SseStream {
  readonly #body = new PassThrough()
  readonly #maxBuffered: number
  #open = true

  constructor(options: { retryMs: number; maxBufferedBytes: number }) {
    this.#maxBuffered = options.maxBufferedBytes
    this.#body.on('close', () => {
      this.#open = false
    })
    // The reconnection delay a browser's EventSource uses after the stream drops.
    this.#body.write(`retry: ${options.retryMs}\n\n`)
  }

  /** The response body to send. */
  get body(): Readable {
    return this.#body
  }

  /** True until the stream ended, was destroyed, or the client went away. */
  get open(): boolean {
    return this.#open
  }

  /** Sends one message; returns false when the stream is closed (or was just cut off for not being read). */
  send(message: SseMessage): boolean {
    if (!this.#open) return false
    const body = this.#body
    body.write(formatSse(message))
    if (body.writableLength + body.readableLength > this.#maxBuffered) {
      this.destroy()
      return false
    }
    return true
  }

  /** Calls `fn` once when the stream closes, whoever closed it. */
  onClose(fn: () => void): void {
    if (this.#body.closed) fn()
    else this.#body.once('close', fn)
  }

  /** Ends the stream cleanly after what was written (the response completes). */
  end(): void {
    if (!this.#open) return
    this.#open = false
    this.#body.end()
  }

  /** Ends the stream at once, dropping anything unsent (the connection is reset). */
  destroy(): void {
    this.#open = false
    this.#body.destroy()
  }
}
