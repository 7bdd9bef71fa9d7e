// A test client for `GET /events`: parses Server-Sent Events the way a browser's EventSource does (WHATWG HTML
// "event stream interpretation") and lets a test wait for messages and for the end of the stream.
import { request, type IncomingHttpHeaders } from 'node:http'

/** One dispatched message. */
export interface SseEvent {
  readonly event: string
  readonly data: string
  readonly id: string | undefined
}

/** Parses a whole event stream text into its messages (and the last `retry` value). */
export function parseSse(text: string): { events: SseEvent[]; retry: number | undefined } {
  const parser = new SseParser()
  parser.push(text)
  return { events: parser.events, retry: parser.retry }
}

/** An incremental parser; feed it chunks with `push`. */
export class SseParser {
  readonly events: SseEvent[] = []
  retry: number | undefined
  #buffer = ''
  #event = ''
  #data: string[] = []
  #id: string | undefined
  #lastId: string | undefined

  push(chunk: string): void {
    this.#buffer += chunk
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.#buffer)
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (m === null || (m[0] === '\r' && m.index === this.#buffer.length - 1)) return
      const line = this.#buffer.slice(0, m.index)
      this.#buffer = this.#buffer.slice(m.index + m[0].length)
      this.#line(line)
    }
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#id !== undefined) this.#lastId = this.#id
      if (this.#data.length > 0)
        this.events.push({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#lastId })
      this.#event = ''
      this.#data = []
      this.#id = undefined
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.#event = value
    else if (field === 'data') this.#data.push(value)
    else if (field === 'id' && !value.includes('\0')) this.#id = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value)
  }
}

/** Messages of a stream as they arrive, with a way to wait for one. */
export class SseWatcher {
  readonly #parser = new SseParser()
  readonly #waiters = new Set<{
    predicate: (e: SseEvent) => boolean
    resolve: (e: SseEvent) => void
    fail: (why: string) => void
  }>()
  #ended = false

  get events(): readonly SseEvent[] {
    return this.#parser.events
  }

  get retry(): number | undefined {
    return this.#parser.retry
  }

  /** Messages of one type, their data parsed as JSON. */
  json<T = Record<string, unknown>>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data) as T)
  }

  push(chunk: string): void {
    const before = this.#parser.events.length
    this.#parser.push(chunk)
    for (const e of this.#parser.events.slice(before))
      for (const w of this.#waiters)
        if (w.predicate(e)) {
          this.#waiters.delete(w)
          w.resolve(e)
        }
  }

  /** The stream ended: pending waits fail at once. */
  end(): void {
    this.#ended = true
    for (const w of this.#waiters) w.fail('the stream ended before a matching event')
    this.#waiters.clear()
  }

  /** Resolves with the first message (already received or still to come) matching `predicate`. */
  next(predicate: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    const found = this.events.find(predicate)
    if (found !== undefined) return Promise.resolve(found)
    const types = () => JSON.stringify(this.events.map((e) => e.event))
    if (this.#ended)
      return Promise.reject(new Error(`the stream ended before a matching event; got ${types()}`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => waiter.fail(`no matching event within ${timeoutMs} ms`), timeoutMs)
      const waiter = {
        predicate,
        resolve: (e: SseEvent) => {
          clearTimeout(timer)
          resolve(e)
        },
        fail: (why: string) => {
          clearTimeout(timer)
          this.#waiters.delete(waiter)
          reject(new Error(`${why}; got ${types()}`))
        },
      }
      this.#waiters.add(waiter)
    })
  }

  /** Resolves with the first `event` message whose parsed data satisfies `predicate`. */
  async nextJson<T = Record<string, unknown>>(
    event: string,
    predicate: (data: T) => boolean = () => true,
  ): Promise<T> {
    const e = await this.next((x) => x.event === event && predicate(JSON.parse(x.data) as T))
    return JSON.parse(e.data) as T
  }
}

/** Reads a readable stream of SSE text into a watcher; `ended` resolves when it ends or closes. */
export function watchReadable(body: NodeJS.ReadableStream): { watcher: SseWatcher; ended: Promise<void> } {
  const watcher = new SseWatcher()
  body.setEncoding('utf8')
  body.on('data', (chunk: string) => watcher.push(chunk))
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      watcher.end()
      resolve()
    }
    body.once('end', done)
    body.once('close', done)
  })
  return { watcher, ended }
}

/** An open `GET /events` request. */
export interface SseConnection {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly watcher: SseWatcher
  /** How the response ended: `end` (complete, clean) or `aborted` (reset or destroyed). */
  readonly ended: Promise<'end' | 'aborted'>
  close(): void
}

/** Opens `GET path` on 127.0.0.1:`port` and parses what arrives. */
export function openSse(
  port: number,
  options: { path?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/events',
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        const watcher = new SseWatcher()
        const ended = new Promise<'end' | 'aborted'>((done) => {
          let settled = false
          const finish = (how: 'end' | 'aborted') => {
            if (settled) return
            settled = true
            watcher.end()
            done(how)
          }
          res.on('end', () => finish('end'))
          res.on('error', () => finish('aborted'))
          res.on('close', () => finish(res.complete ? 'end' : 'aborted'))
        })
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => watcher.push(chunk))
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          watcher,
          ended,
          close: () => req.destroy(),
        })
      },
    )
    req.on('error', reject)
    req.end()
  })
}
