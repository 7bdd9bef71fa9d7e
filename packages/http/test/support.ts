import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type RequestListener,
} from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { createContext, type ContextEvent, type IntegrationContext, type RouteDsl } from '@dromedary/core'
import { httpComponent, type HttpComponent, type HttpComponentOptions } from '@dromedary/http'

/** A started context with an `http` component on an ephemeral port. */
export interface Running {
  readonly ctx: IntegrationContext
  readonly http: HttpComponent
  readonly port: number
}

/** Creates, configures and starts a context whose `http` component listens on 127.0.0.1:0. */
export async function startHttp(
  routes: (r: RouteDsl) => void,
  options: HttpComponentOptions = {},
  contextOptions: Parameters<typeof createContext>[0] = {},
): Promise<Running> {
  const http = httpComponent({ port: 0, ...options })
  const ctx = createContext({ logger: false, ...contextOptions })
  ctx.addComponent('http', http)
  await ctx.addRoutes(routes)
  await ctx.start()
  const port = http.address?.port
  if (port === undefined) throw new Error('the http component is not listening')
  return { ctx, http, port }
}

/** A started context with an `http` component and no route yet, for outbound requests. */
export async function startOutbound(options: HttpComponentOptions = {}): Promise<IntegrationContext> {
  const ctx = createContext({ logger: false }).addComponent('http', httpComponent({ port: 0, ...options }))
  await ctx.start()
  return ctx
}

/** A plain Node HTTP server on 127.0.0.1, the far end of outbound requests. */
export interface Backend {
  /** `http://127.0.0.1:PORT` */
  readonly base: string
  readonly port: number
  /** Every connection it accepted. */
  readonly sockets: Socket[]
  /** Resolves once every connection it accepted is closed. */
  allClosed(): Promise<unknown>
  /** Closes it and its connections. */
  close(): Promise<void>
}

/** Starts a backend answering with `handler` on an ephemeral port. */
export async function startBackend(handler: RequestListener): Promise<Backend> {
  const server = createServer(handler)
  const sockets: Socket[] = []
  server.on('connection', (s: Socket) => sockets.push(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    sockets,
    allClosed: () =>
      Promise.all(sockets.map((s) => new Promise((r) => (s.destroyed ? r(null) : s.once('close', r))))),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** One answer, read fully. */
export interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
  readonly json: unknown
}

/** One request on its own connection (`Connection: close`), so no socket outlives the test. */
export function send(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: unknown
          try {
            json = text === '' ? undefined : JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A promise with its resolve function, for event-driven test synchronisation. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Resolves with the next context event of `type` (subscribing now). */
export function nextEvent<T extends ContextEvent['type']>(
  ctx: IntegrationContext,
  type: T,
): Promise<Extract<ContextEvent, { type: T }>> {
  return new Promise((resolve) => {
    const sub = ctx.events$.subscribe((e) => {
      if (e.type !== type) return
      sub.unsubscribe()
      resolve(e as Extract<ContextEvent, { type: T }>)
    })
  })
}

/** A raw TCP connection to 127.0.0.1 that records what the server sends and how the connection ends. */
export async function rawConnection(port: number): Promise<{
  socket: Socket
  /** `end` for a FIN, `error:<code>` for a reset or other error, in order. */
  events: string[]
  /** Resolves with `hadError` once the socket is closed. */
  closed: Promise<boolean>
  /** Forgets what was received so far (before the next request on a keep-alive connection). */
  clear(): void
  /** Resolves with everything received so far once `done` holds for it, checking again on each chunk. */
  until(done: (received: string) => boolean): Promise<string>
}> {
  const socket = connect(port, '127.0.0.1')
  const events: string[] = []
  let data = ''
  const closed = new Promise<boolean>((resolve) => socket.on('close', resolve))
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')))
  socket.on('end', () => events.push('end'))
  socket.on('error', (err: NodeJS.ErrnoException) => events.push(`error:${err.code ?? err.message}`))
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  return {
    socket,
    events,
    closed,
    clear: () => void (data = ''),
    async until(done) {
      while (!done(data)) await new Promise<void>((resolve) => socket.once('data', () => resolve()))
      return data
    },
  }
}
