import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
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
  ctx.addRoutes(routes)
  await ctx.start()
  const port = http.address?.port
  if (port === undefined) throw new Error('the http component is not listening')
  return { ctx, http, port }
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
