import { amqpComponent } from '@dromedary/amqp'
import { createContext, type Exchange, type IntegrationContext } from '@dromedary/core'
import { createManagementServer, httpComponent } from '@dromedary/http'

/** Settings of the orders app, read from the environment by `main.ts`. */
export interface OrdersAppOptions {
  /** HTTP port for the orders API. @default 8080 */
  port?: number
  /** Port of the management server (metrics, health, control). @default 9464 */
  managementPort?: number
  /** Interface the orders API binds to; `0.0.0.0` in a container. @default '127.0.0.1' */
  host?: string
  /** Interface the management server binds to; `0.0.0.0` so the kubelet can probe it. @default '127.0.0.1' */
  managementHost?: string
  /** When set, the orders queue is a RabbitMQ queue instead of an in-memory seda queue. */
  amqpUrl?: string | undefined
  /** Bearer token for the management server's mutating endpoints; unset disables them. */
  adminToken?: string | undefined
  /** Simulated payment-provider latency. @default 200 */
  paymentDelayMs?: number
  /** Graceful shutdown timeout. @default 30000 */
  shutdownTimeoutMs?: number
  /** Keep serving with readiness down this long after NOTICE (load-balancer propagation). @default 0 */
  preStopDelayMs?: number
}

/** An order as the API accepts it. */
export interface Order {
  customer: string
  items: Array<{ sku: string; quantity: number }>
}

/** An order on its way through the worker routes. */
interface QueuedOrder extends Order {
  id: string
  total: number
}

type OrderStatus = 'accepted' | 'paid' | 'shipped'

const problem = (detail: string) => ({ type: 'about:blank', title: 'Invalid order', status: 400, detail })

/** Returns why an order body is invalid, or undefined when it is valid. */
export function validateOrder(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return 'body must be a JSON object'
  const o = body as Partial<Order>
  if (typeof o.customer !== 'string' || o.customer.trim() === '')
    return '"customer" must be a non-empty string'
  if (!Array.isArray(o.items) || o.items.length === 0) return '"items" must be a non-empty array'
  for (const [i, item] of o.items.entries()) {
    if (item === null || typeof item !== 'object') return `items[${i}] must be an object`
    if (typeof item.sku !== 'string' || item.sku === '') return `items[${i}].sku must be a non-empty string`
    if (!Number.isInteger(item.quantity) || item.quantity < 1)
      return `items[${i}].quantity must be an integer >= 1`
  }
  return undefined
}

/** Builds the orders context: routes, components and the status store. */
export function createOrdersApp(options: OrdersAppOptions = {}): {
  ctx: IntegrationContext
  startManagement: () => Promise<{ close(): Promise<void> }>
} {
  const port = options.port ?? 8080
  const paymentDelayMs = options.paymentDelayMs ?? 200
  const statuses = new Map<string, OrderStatus>()
  let seq = 0

  const ctx = createContext({
    name: 'orders',
    workerGroups: { payments: { workers: 4, queueSize: 10_000 } },
    shutdown: { timeoutMs: options.shutdownTimeoutMs ?? 30_000, preStopDelayMs: options.preStopDelayMs ?? 0 },
  })

  ctx.addComponent('http', httpComponent({ port, host: options.host ?? '127.0.0.1' }))
  if (options.amqpUrl !== undefined) ctx.addComponent('amqp', amqpComponent({ url: options.amqpUrl }))
  const queueIn =
    options.amqpUrl === undefined ? 'seda:orders?concurrentConsumers=8' : 'amqp:queue:orders?prefetch=8'
  const queueOut = options.amqpUrl === undefined ? 'seda:orders' : 'amqp:queue:orders'

  void ctx.addRoutes((r) => {
    // 1. Intake: validate, answer 202 { id } and queue the order.
    r.from<unknown>('http:/orders?method=POST')
      .routeId('api')
      .startupOrder(30)
      .choice((c) =>
        c
          .when(
            (ex) => validateOrder(ex.message.body) !== undefined,
            (b) =>
              b
                .setHeader('http.status', 400)
                .setHeader('http.responseHeaders', { 'content-type': 'application/problem+json' })
                .setBody((ex) => problem(validateOrder(ex.message.body) ?? '')),
          )
          .otherwise((b) =>
            b
              .transform((ex: Exchange<unknown>): QueuedOrder => {
                const order = ex.message.body as Order
                const id = `ord-${Date.now().toString(36)}-${++seq}`
                statuses.set(id, 'accepted')
                const total = order.items.reduce((n, i) => n + i.quantity, 0)
                return { ...order, id, total }
              })
              .to(queueOut)
              .setHeader('http.status', 202)
              .setBody((ex) => ({ id: ex.message.body.id })),
          ),
      )

    // 2. Status lookup.
    r.from('http:/orders/:id?method=GET')
      .routeId('status')
      .startupOrder(31)
      .process((ex) => {
        const id = (ex.message.headers['http.params'] as Record<string, string>).id ?? ''
        const status = statuses.get(id)
        ex.message.headers['http.status'] = status === undefined ? 404 : 200
        ex.message.body = status === undefined ? { id, status: 'unknown' } : { id, status }
      })

    // 3. Worker: a payment call (a non-blocking delay), then a bounded pool of payment workers.
    r.from<QueuedOrder>(queueIn)
      .routeId('orders')
      .startupOrder(20)
      .shutdownRunningTask('completeAllTasks')
      .delay(paymentDelayMs)
      .asyncTask('direct:charge', { group: 'payments' })

    r.from<QueuedOrder>('direct:charge')
      .routeId('charge')
      .startupOrder(11)
      .process((ex) => {
        statuses.set(ex.message.body.id, 'paid')
      })
      .emitEvent('order.paid', 'order', (ex) => ({ id: ex.message.body.id, total: ex.message.body.total }))
      .to('direct:ship')

    r.from<QueuedOrder>('direct:ship')
      .routeId('ship')
      .startupOrder(10)
      .process((ex) => {
        statuses.set(ex.message.body.id, 'shipped')
      })
      .log('Shipped order ${body}')

    // 4. Audit trail from type-key-value events.
    r.from('event:tkv').routeId('audit').startupOrder(12).to('log:audit?level=debug')
  })

  const startManagement = () =>
    createManagementServer(ctx, {
      port: options.managementPort ?? 9464,
      host: options.managementHost ?? '127.0.0.1',
      ...(options.adminToken === undefined ? {} : { token: options.adminToken }),
    })
  return { ctx, startManagement }
}
