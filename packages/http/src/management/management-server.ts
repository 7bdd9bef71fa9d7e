import { CoreErrorCodes, isDromedaryError, type IntegrationContext, type Logger } from '@dromedary/core'
import { HttpServer, type HttpAddress, type ReplyHandle, type RequestTarget } from '../http-server.js'
import { createTokenCheck, type AuthVerdict } from './auth.js'
import { mountConsole } from './console-routes.js'
import { managementRoutes, ProblemError, type ManagementRoute } from './management-routes.js'
import { MetricsRenderer } from './node-metrics.js'

/** Options of `createManagementServer`. */
export interface ManagementServerOptions {
  /** Port to listen on (0 = an ephemeral port, see `address`). @default 9464 */
  port?: number
  /** Interface to bind; keep it private. @default '127.0.0.1' */
  host?: string
  /**
   * Bearer token the mutating endpoints (POST, PATCH) require, compared in constant time. Without one they are
   * disabled and answer 403. @default undefined
   */
  token?: string | undefined
  /** Add Node's default process metrics (collected into a private registry) to `GET /metrics`. @default true */
  defaultMetrics?: boolean
  /**
   * Serve the console: the page at `GET /` and its live feed at `GET /events` (Server-Sent Events). Its controls
   * use the token-protected endpoints. @default true
   */
  console?: boolean
}

/** A running management server. */
export interface ManagementServer extends AsyncDisposable {
  /** Where it listens. */
  readonly address: HttpAddress
  /** Stops listening and closes its connections; idempotent. */
  close(): Promise<void>
}

/** Largest management request body. */
const BODY_LIMIT = 64 * 1024

/**
 * Starts the management server of SPEC §6 on its own port: `GET /metrics`, `/health/live`, `/health/ready`,
 * `/routes`, `/inflight`, `/shutdown-strategy`, the console (`GET /`, `GET /events`), and with the bearer token `POST /shutdown`,
 * `PATCH /shutdown-strategy`, `POST /routes/:id/(start|stop|suspend|resume)`. It outlives the context's
 * shutdown (so a shutdown can be watched); close it yourself.
 * @example
 * const mgmt = await createManagementServer(ctx, { port: 9464, token: process.env.DROMEDARY_ADMIN_TOKEN })
 */
export async function createManagementServer(
  ctx: IntegrationContext,
  options: ManagementServerOptions = {},
): Promise<ManagementServer> {
  const server = new HttpServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 9464,
    bodyLimit: BODY_LIMIT,
    retryAfterSeconds: 5,
    logger: ctx.logger,
  })
  const metrics = new MetricsRenderer(ctx.metrics, options.defaultMetrics ?? true)
  const auth = createTokenCheck(options.token)
  for (const route of managementRoutes(ctx, metrics))
    server.route(route.method, route.path, new ActionTarget(server, route, auth, ctx.logger))
  const mounted = options.console === false ? undefined : mountConsole(server, ctx)
  let address: HttpAddress
  try {
    address = await server.listen()
  } catch (err) {
    await mounted?.close()
    metrics.close()
    throw err
  }
  let closing: Promise<void> | undefined
  // Event streams do not end by themselves while the context runs: they end first, so they never hold the close.
  const close = () =>
    (closing ??= (mounted?.close() ?? Promise.resolve())
      .then(() => server.close({ forced: false }))
      .finally(() => {
        metrics.close()
      }))
  return { address, close, [Symbol.asyncDispose]: close }
}

/** Runs one management action for each matching request: token check, action, JSON or problem answer. */
class ActionTarget implements RequestTarget {
  readonly #server: HttpServer
  readonly #route: ManagementRoute
  readonly #auth: (authorization: unknown) => AuthVerdict
  readonly #logger: Logger

  constructor(
    server: HttpServer,
    route: ManagementRoute,
    auth: (authorization: unknown) => AuthVerdict,
    logger: Logger,
  ) {
    this.#server = server
    this.#route = route
    this.#auth = auth
    this.#logger = logger
  }

  handle(headers: Record<string, unknown>, body: unknown, reply: ReplyHandle): void {
    void this.#run(headers, body, reply)
  }

  async #run(headers: Record<string, unknown>, body: unknown, reply: ReplyHandle): Promise<void> {
    const server = this.#server
    if (this.#route.mutating) {
      const verdict = this.#auth(headers.authorization)
      if (verdict === 'disabled') {
        server.problem(reply, 403, 'Management actions are disabled: no token is configured')
        return
      }
      if (verdict === 'unauthorized') {
        server.problem(reply, 401, 'A valid "Authorization: Bearer <token>" header is required', undefined, {
          'www-authenticate': 'Bearer',
        })
        return
      }
    }
    try {
      const res = await this.#route.run({
        params: headers['http.params'] as Record<string, string>,
        query: headers['http.query'] as Record<string, unknown>,
        body,
      })
      server.send(
        reply,
        res.status,
        res.body,
        res.contentType === undefined ? undefined : { 'content-type': res.contentType },
      )
    } catch (err) {
      if (err instanceof ProblemError) server.problem(reply, err.status, err.detail)
      else if (isDromedaryError(err, CoreErrorCodes.UNKNOWN_ROUTE)) server.problem(reply, 404, err.message)
      else if (
        isDromedaryError(err, CoreErrorCodes.SHUTTING_DOWN) ||
        isDromedaryError(err, CoreErrorCodes.NOT_STARTED)
      )
        server.problem(reply, 409, err.message, { code: err.code })
      else {
        this.#logger.error({ err }, `Management action ${this.#route.method} ${this.#route.path} failed`)
        server.problem(reply, 500, 'The action failed; see the server log')
      }
    }
  }
}
