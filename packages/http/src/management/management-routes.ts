import { isDromedaryError, type IntegrationContext } from '@dromedary/core'
import type { HttpMethod } from '../http-router.js'
import { validateBody, validateQuery, type FieldSchema } from './body-validation.js'
import type { MetricsRenderer } from './node-metrics.js'
import { ProblemError } from './problem-error.js'

export { ProblemError } from './problem-error.js'

/** A request as a management action sees it. */
export interface ManagementRequest {
  readonly params: Readonly<Record<string, string>>
  readonly query: Readonly<Record<string, unknown>>
  readonly body: unknown
}

/** What an action answers; `body` is sent as JSON unless `contentType` is given. */
export interface ManagementResponse {
  readonly status: number
  readonly body: unknown
  readonly contentType?: string
}

/** One endpoint of the management server. */
export interface ManagementRoute {
  readonly method: HttpMethod
  readonly path: string
  /** Mutating endpoints need the bearer token. */
  readonly mutating: boolean
  run(request: ManagementRequest): ManagementResponse | Promise<ManagementResponse>
}

const BOOLEAN = { type: 'boolean' } as const
const DURATION = { type: 'duration' } as const

/**
 * The writable options of a `DefaultShutdownStrategy` and the kind of value each takes: durations are whole ms up
 * to 2 147 483 647 (a longer timer would fire at once), and progress lines come at most every 10 ms.
 */
const STRATEGY_FIELDS = {
  timeoutMs: DURATION,
  progressIntervalMs: { type: 'duration', min: 10 },
  shutdownNowOnTimeout: BOOLEAN,
  shutdownRoutesInReverseOrder: BOOLEAN,
  suppressLoggingOnTimeout: BOOLEAN,
  logInflightExchangesOnTimeout: BOOLEAN,
} as const satisfies FieldSchema

const SHUTDOWN_FIELDS = { timeoutMs: DURATION, force: BOOLEAN } as const satisfies FieldSchema
const STOP_ROUTE_FIELDS = { timeoutMs: DURATION, abortAfterTimeout: BOOLEAN } as const satisfies FieldSchema
const INFLIGHT_QUERY = {
  limit: { type: 'count' },
  sortByLongestDuration: BOOLEAN,
} as const satisfies FieldSchema

const ROUTE_ACTIONS = ['start', 'stop', 'suspend', 'resume'] as const

/** The management endpoints of SPEC §6 over one context. */
export function managementRoutes(ctx: IntegrationContext, metrics: MetricsRenderer): ManagementRoute[] {
  const health = (which: 'live' | 'ready'): ManagementResponse => {
    const h = ctx.health()
    return {
      status: h[which] ? 200 : 503,
      body: { status: h[which] ? 'UP' : 'DOWN', ...h, context: ctx.status, shutdownLevel: ctx.shutdownLevel },
    }
  }
  return [
    {
      method: 'GET',
      path: '/metrics',
      mutating: false,
      run: async () => ({ status: 200, body: await metrics.render(), contentType: metrics.contentType }),
    },
    { method: 'GET', path: '/health/live', mutating: false, run: () => health('live') },
    { method: 'GET', path: '/health/ready', mutating: false, run: () => health('ready') },
    { method: 'GET', path: '/routes', mutating: false, run: () => ({ status: 200, body: ctx.routes() }) },
    {
      method: 'GET',
      path: '/inflight',
      mutating: false,
      run: ({ query }) => {
        const routeId = optionalString(query, 'routeId')
        const q = validateQuery(query, INFLIGHT_QUERY)
        const limit = q.limit ?? 100
        const sortByLongestDuration = q.sortByLongestDuration ?? false
        const exchanges = ctx.inflight.browse({
          limit,
          sortByLongestDuration,
          ...(routeId === undefined ? {} : { routeId }),
        })
        return { status: 200, body: { size: ctx.inflight.size(routeId), exchanges } }
      },
    },
    {
      method: 'POST',
      path: '/shutdown',
      mutating: true,
      run: ({ body }) => {
        const { timeoutMs, force = false } = validateBody(body, SHUTDOWN_FIELDS)
        // Answered at once: a graceful stop may take minutes; watch /health/ready and /metrics meanwhile.
        const stopping = force ? ctx.forceStop() : ctx.stop(timeoutMs === undefined ? {} : { timeoutMs })
        stopping.catch((err: unknown) => ctx.logger.error({ err }, 'Shutdown requested over HTTP failed'))
        return {
          status: 202,
          body: { accepted: true, force, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
        }
      },
    },
    {
      method: 'GET',
      path: '/shutdown-strategy',
      mutating: false,
      run: () => ({ status: 200, body: strategyView(ctx) }),
    },
    {
      method: 'PATCH',
      path: '/shutdown-strategy',
      mutating: true,
      run: ({ body }) => {
        const updates = Object.entries(validateBody(body, STRATEGY_FIELDS))
        const strategy = ctx.shutdownStrategy as unknown as Record<string, unknown>
        for (const [name, value] of updates)
          if (typeof strategy[name] !== typeof value)
            throw new ProblemError(409, `The shutdown strategy in use has no writable "${name}"`)
        applyAll(strategy, updates)
        return { status: 200, body: strategyView(ctx) }
      },
    },
    {
      method: 'POST',
      path: '/routes/:id/:action',
      mutating: true,
      run: async ({ params, body }) => {
        const id = params.id!
        const action = params.action as (typeof ROUTE_ACTIONS)[number]
        if (!ROUTE_ACTIONS.includes(action))
          throw new ProblemError(
            404,
            `Unknown route action "${action}" (expected ${ROUTE_ACTIONS.join(', ')})`,
          )
        let stopped: boolean | undefined
        if (action === 'start') await ctx.startRoute(id)
        else if (action === 'suspend') await ctx.suspendRoute(id)
        else if (action === 'resume') await ctx.resumeRoute(id)
        else {
          const { timeoutMs, abortAfterTimeout } = validateBody(body, STOP_ROUTE_FIELDS)
          stopped = await ctx.stopRoute(id, {
            ...(timeoutMs === undefined ? {} : { timeoutMs }),
            ...(abortAfterTimeout === undefined ? {} : { abortAfterTimeout }),
          })
        }
        const route = ctx.routes().find((r) => r.id === id)
        return { status: 200, body: { action, ...(stopped === undefined ? {} : { stopped }), route } }
      },
    },
  ]
}

function strategyView(ctx: IntegrationContext): Record<string, unknown> {
  const strategy = ctx.shutdownStrategy as unknown as Record<string, unknown>
  const out: Record<string, unknown> = { type: strategy.constructor?.name ?? 'unknown' }
  for (const name of Object.keys(STRATEGY_FIELDS)) if (name in strategy) out[name] = strategy[name]
  return out
}

/**
 * Sets every update, or none: a setter that refuses a value (a strategy validating its own options) puts back
 * the values already set and answers 400.
 */
function applyAll(
  strategy: Record<string, unknown>,
  updates: ReadonlyArray<readonly [string, unknown]>,
): void {
  const before = updates.map(([name]) => [name, strategy[name]] as const)
  try {
    for (const [name, value] of updates) strategy[name] = value
  } catch (err) {
    for (const [name, value] of before) strategy[name] = value
    if (isDromedaryError(err)) throw new ProblemError(400, err.message)
    throw err
  }
}

function optionalString(source: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = source[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '') throw new ProblemError(400, `"${name}" must be a non-empty string`)
  return v
}
