import type { IntegrationContext } from '@dromedary/core'
import type { HttpServer, ReplyHandle, RequestTarget } from '../http-server.js'
import { ConsoleAssets } from './console-assets.js'
import { ConsoleFeed, type ConsoleFeedOptions } from './console-feed.js'
import { CONSOLE_HTML, CONSOLE_SECURITY_HEADERS } from './console-page.js'
import { SSE_HEADERS } from './sse-stream.js'

/** The console mounted on a management server. */
export interface MountedConsole {
  /** Ends every event stream (so none holds the server's close) and refuses new ones. Idempotent. */
  close(): Promise<void>
}

const PAGE_HEADERS = {
  ...CONSOLE_SECURITY_HEADERS,
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
}

/**
 * Adds the console to a management server: `GET /` (the page), `GET /console/:file` (its script and stylesheet)
 * and `GET /events` (Server-Sent Events: lifecycle events and snapshots). All read-only: the page's controls call
 * the token-protected management endpoints.
 */
export function mountConsole(
  server: HttpServer,
  ctx: IntegrationContext,
  options: ConsoleFeedOptions = {},
): MountedConsole {
  const feed = new ConsoleFeed(ctx, options)
  const assets = new ConsoleAssets()
  server.route(
    'GET',
    '/',
    target((_headers, reply) => server.send(reply, 200, CONSOLE_HTML, PAGE_HEADERS)),
  )
  server.route(
    'GET',
    '/console/:file',
    target((headers, reply) => {
      const file = (headers['http.params'] as Record<string, string>).file ?? ''
      assets.get(file).then(
        (asset) => {
          if (asset === undefined) server.problem(reply, 404, `No console asset ${file}`)
          else
            server.send(reply, 200, asset.body, {
              ...CONSOLE_SECURITY_HEADERS,
              'content-type': asset.contentType,
              'cache-control': 'no-cache',
            })
        },
        (err: unknown) => {
          ctx.logger.error({ err }, `Console asset ${file} could not be read`)
          server.problem(reply, 500, 'The console asset could not be read')
        },
      )
    }),
  )
  server.route(
    'GET',
    '/events',
    target((headers, reply) => {
      // HEAD gets the headers only: a stream nobody can read would stay open.
      if (headers['http.method'] === 'HEAD') return void server.send(reply, 200, '', SSE_HEADERS)
      const stream = feed.open(headers['last-event-id'])
      if (stream === undefined) server.unavailable(reply, 'The management server is closing', true)
      else server.send(reply, 200, stream.body, SSE_HEADERS)
    }),
  )
  return { close: () => feed.close() }
}

function target(handle: (headers: Record<string, unknown>, reply: ReplyHandle) => void): RequestTarget {
  return { handle: (headers, _body, reply) => handle(headers, reply) }
}
