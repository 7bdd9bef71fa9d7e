import { createContext, type IntegrationContext } from '@dromedary/core'
import { httpComponent } from '@dromedary/http'
import { byScheme, TieredShutdownStrategy } from './tiered-shutdown-strategy.js'

/** Settings of the reports app, read from the environment by `main.ts`. */
export interface ReportsAppOptions {
  /** HTTP port of the API. @default 8080 */
  port?: number
  /** How long rendering one report takes (a background job). @default 3000 */
  renderMs?: number
  /** Drain budget of the HTTP-facing routes. @default 5000 */
  frontendTimeoutMs?: number
  /** Drain budget of the background routes. @default 60000 */
  backgroundTimeoutMs?: number
}

interface ReportJob {
  id: string
  title: string
}

/**
 * An HTTP API that accepts report requests and renders them in the background, stopped by a
 * `TieredShutdownStrategy`: the HTTP routes drain first on a short budget, then the renderers on a long one.
 */
export function createReportsApp(options: ReportsAppOptions = {}): IntegrationContext {
  const renderMs = options.renderMs ?? 3000
  const status = new Map<string, 'queued' | 'rendered'>()
  let seq = 0

  const ctx = createContext({
    name: 'reports',
    shutdownStrategy: new TieredShutdownStrategy({
      tiers: [
        { name: 'frontend', match: byScheme('http'), timeoutMs: options.frontendTimeoutMs ?? 5000 },
        { name: 'background', timeoutMs: options.backgroundTimeoutMs ?? 60_000 },
      ],
    }),
  })
  ctx.addComponent('http', httpComponent({ port: options.port ?? 8080, host: '127.0.0.1' }))

  void ctx.addRoutes((r) => {
    // Frontend tier: clients wait on these, so they get a short budget.
    r.from<unknown>('http:/reports?method=POST')
      .routeId('api')
      .startupOrder(20)
      .transform((ex): ReportJob => {
        const body = ex.message.body as { title?: unknown } | null
        const title = typeof body?.title === 'string' && body.title !== '' ? body.title : 'untitled'
        const id = `rep-${++seq}`
        status.set(id, 'queued')
        return { id, title }
      })
      .to('seda:reports')
      .setHeader('http.status', 202)
      .setBody((ex) => ({ id: ex.message.body.id }))

    r.from('http:/reports/:id?method=GET')
      .routeId('status')
      .startupOrder(21)
      .process((ex) => {
        const id = (ex.message.headers['http.params'] as Record<string, string> | undefined)?.id ?? ''
        const s = status.get(id)
        ex.message.headers['http.status'] = s === undefined ? 404 : 200
        ex.message.body = { id, status: s ?? 'unknown' }
      })

    // Background tier: accepted work should finish, so it gets a long budget.
    r.from<ReportJob>('seda:reports?concurrentConsumers=2')
      .routeId('render')
      .startupOrder(10)
      .log('Rendering report ${body}')
      .delay(renderMs)
      .to('direct:store')

    r.from<ReportJob>('direct:store')
      .routeId('store')
      .startupOrder(11)
      .process((ex) => {
        status.set(ex.message.body.id, 'rendered')
      })
      .log('Stored report ${body}')
  })
  return ctx
}
