import type { IntegrationContext } from '@dromedary/core'
import type { HttpMethod } from '../http-router.js'
import type { MetricsRenderer } from './node-metrics.js'

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

/** Thrown by an action to answer a problem (`application/problem+json`). */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail)
  }

  override get name(): string {
    return 'ProblemError'
  }
}

/** The writable options of a `DefaultShutdownStrategy` and the kind of value each takes. */
const STRATEGY_FIELDS = {
  timeoutMs: 'nonNegative',
  progressIntervalMs: 'positive',
  shutdownNowOnTimeout: 'boolean',
  shutdownRoutesInReverseOrder: 'boolean',
  suppressLoggingOnTimeout: 'boolean',
  logInflightExchangesOnTimeout: 'boolean',
} as const

type FieldKind = (typeof STRATEGY_FIELDS)[keyof typeof STRATEGY_FIELDS]

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
        const limit = field(query, 'limit', 'nonNegative') ?? 100
        const sortByLongestDuration = field(query, 'sortByLongestDuration', 'boolean') ?? false
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
        const b = objectBody(body)
        onlyFields(b, ['timeoutMs', 'force'])
        const timeoutMs = field(b, 'timeoutMs', 'nonNegative')
        const force = field(b, 'force', 'boolean') ?? false
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
        const b = objectBody(body)
        onlyFields(b, Object.keys(STRATEGY_FIELDS))
        const strategy = ctx.shutdownStrategy as unknown as Record<string, unknown>
        const updates: Array<[string, unknown]> = []
        for (const [name, kind] of Object.entries(STRATEGY_FIELDS)) {
          const value = field(b, name, kind)
          if (value === undefined) continue
          if (typeof strategy[name] !== typeof value)
            throw new ProblemError(409, `The shutdown strategy in use has no writable "${name}"`)
          updates.push([name, value])
        }
        for (const [name, value] of updates) strategy[name] = value
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
          const b = objectBody(body)
          onlyFields(b, ['timeoutMs', 'abortAfterTimeout'])
          const timeoutMs = field(b, 'timeoutMs', 'nonNegative')
          const abortAfterTimeout = field(b, 'abortAfterTimeout', 'boolean')
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

/** A JSON object body; no body is `{}`. Form bodies work too (their values are strings, coerced below). */
function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {}
  if (Buffer.isBuffer(body) && body.length === 0) return {}
  if (typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body))
    return body as Record<string, unknown>
  throw new ProblemError(400, 'The body must be a JSON object (Content-Type: application/json)')
}

function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const name of Object.keys(body))
    if (!allowed.includes(name))
      throw new ProblemError(400, `Unknown field "${name}" (allowed: ${allowed.join(', ')})`)
}

function optionalString(source: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = source[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '') throw new ProblemError(400, `"${name}" must be a non-empty string`)
  return v
}

function field(source: Readonly<Record<string, unknown>>, name: string, kind: 'boolean'): boolean | undefined
function field(
  source: Readonly<Record<string, unknown>>,
  name: string,
  kind: 'nonNegative' | 'positive',
): number | undefined
function field(
  source: Readonly<Record<string, unknown>>,
  name: string,
  kind: FieldKind,
): number | boolean | undefined
function field(
  source: Readonly<Record<string, unknown>>,
  name: string,
  kind: FieldKind,
): number | boolean | undefined {
  const raw = source[name]
  if (raw === undefined) return undefined
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw
    if (raw === 'true' || raw === 'false') return raw === 'true'
    throw new ProblemError(400, `"${name}" must be true or false`)
  }
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN
  const ok = Number.isFinite(n) && (kind === 'positive' ? n > 0 : n >= 0)
  if (!ok)
    throw new ProblemError(
      400,
      `"${name}" must be a ${kind === 'positive' ? 'positive' : 'non-negative'} number`,
    )
  return n
}
