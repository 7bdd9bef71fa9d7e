import type { DelayScheduler } from '../async/delay-scheduler.js'
import type { PendingOwner, WorkerGroup } from '../async/worker-group.js'
import { errors, messageOf } from '../errors.js'
import { DefaultExchange } from '../exchange/exchange.js'
import type { StepDefinition } from '../route/route-definition.js'
import type { Producer } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import type { ErrorHandler } from './error-handler.js'
import { Pipeline } from './pipeline.js'
import { isThenable, STOP, type Step, type StepResult } from './step.js'

type Fn = (exchange: DefaultExchange) => unknown

/** What compiling a route needs from its runtime. @internal */
export interface CompileHost {
  readonly routeId: string
  readonly logger: Logger
  readonly scheduler: DelayScheduler
  readonly pendingOwner: PendingOwner
  readonly errorHandler: ErrorHandler
  producerFor(uri: string): Producer
  workerGroup(name: string): WorkerGroup
  emitEvent(type: string, key: string, value: unknown): void
  /** Rejects async work once shutdown is at NOW. */
  assertAcceptingAsync(what: string): void
  /** Hands an exchange (or new data) to the route consuming `uri` outside this run; tracked there. */
  dispatchNew(uri: string, body: unknown, headers: Record<string, unknown>): void | Promise<void>
  warnOnce(key: string, message: string): void
}

/** Compiles step definitions into a pipeline; node ids are numbered per route (`process1`, `to2`). @internal */
export function compilePipeline(
  defs: readonly StepDefinition[],
  host: CompileHost,
  counter = { n: 0 },
): Pipeline {
  return new Pipeline(
    defs.map((d) => compileStep(d, host, `${d.kind}${++counter.n}`, counter)),
    host.errorHandler,
  )
}

async function setBodyAsync(ex: DefaultExchange, p: PromiseLike<unknown>): Promise<void> {
  ex.message.body = await p
}

async function setHeaderAsync(ex: DefaultExchange, name: string, p: PromiseLike<unknown>): Promise<void> {
  ex.message.headers[name] = await p
}

async function filterAsync(p: PromiseLike<unknown>): Promise<unknown> {
  return (await p) === true ? undefined : STOP
}

// A branch's failure already went through the error handler: the parent just stops, without handling it twice.
const stopIfFailed = (ex: DefaultExchange): typeof STOP | undefined =>
  ex.exception === undefined ? undefined : STOP

function afterBranch(ex: DefaultExchange, r: void | Promise<void>): StepResult {
  if (r === undefined) return stopIfFailed(ex)
  return r.then(() => stopIfFailed(ex))
}

function copyOf(ex: DefaultExchange, body: unknown): DefaultExchange {
  const c = new DefaultExchange(ex.fromRouteId, ex.fromUri, body, { ...ex.message.headers })
  c.atRouteId = ex.atRouteId
  return c
}

function compileStep(def: StepDefinition, host: CompileHost, nodeId: string, counter: { n: number }): Step {
  switch (def.kind) {
    case 'process': {
      const fn = def.fn as Fn
      return {
        nodeId,
        run(ex) {
          const r = fn(ex)
          return isThenable(r) ? r : undefined
        },
      }
    }
    case 'transform': {
      const fn = def.fn as Fn
      return {
        nodeId,
        run(ex) {
          const r = fn(ex)
          if (isThenable(r)) return setBodyAsync(ex, r)
          ex.message.body = r
        },
      }
    }
    case 'setBody': {
      const v = def.value
      if (typeof v !== 'function')
        return {
          nodeId,
          run(ex) {
            ex.message.body = v
          },
        }
      const fn = v as Fn
      return {
        nodeId,
        run(ex) {
          const r = fn(ex)
          if (isThenable(r)) return setBodyAsync(ex, r)
          ex.message.body = r
        },
      }
    }
    case 'setHeader': {
      const { name, value } = def
      if (typeof value !== 'function')
        return {
          nodeId,
          run(ex) {
            ex.message.headers[name] = value
          },
        }
      const fn = value as Fn
      return {
        nodeId,
        run(ex) {
          const r = fn(ex)
          if (isThenable(r)) return setHeaderAsync(ex, name, r)
          ex.message.headers[name] = r
        },
      }
    }
    case 'removeHeader': {
      const { name } = def
      return {
        nodeId,
        run(ex) {
          delete ex.message.headers[name]
        },
      }
    }
    case 'filter': {
      const pred = def.predicate as Fn
      return {
        nodeId,
        run(ex) {
          const r = pred(ex)
          if (isThenable(r)) return filterAsync(r)
          return r === true ? undefined : STOP
        },
      }
    }
    case 'choice': {
      const whens = def.whens.map((w) => ({
        predicate: w.predicate,
        pipeline: compilePipeline(w.steps, host, counter),
      }))
      const otherwise =
        def.otherwise === undefined ? undefined : compilePipeline(def.otherwise, host, counter)
      const pick = async (
        ex: DefaultExchange,
        from: number,
        first: PromiseLike<unknown>,
      ): Promise<unknown> => {
        if ((await first) === true) return afterBranch(ex, whens[from]!.pipeline.run(ex))
        for (let i = from + 1; i < whens.length; i++) {
          if ((await whens[i]!.predicate(ex)) === true) return afterBranch(ex, whens[i]!.pipeline.run(ex))
        }
        return otherwise === undefined ? undefined : afterBranch(ex, otherwise.run(ex))
      }
      return {
        nodeId,
        run(ex) {
          for (let i = 0; i < whens.length; i++) {
            const r = whens[i]!.predicate(ex)
            if (isThenable(r)) return pick(ex, i, r)
            if (r === true) return afterBranch(ex, whens[i]!.pipeline.run(ex))
          }
          return otherwise === undefined ? undefined : afterBranch(ex, otherwise.run(ex))
        },
      }
    }
    case 'split': {
      const fn = def.fn as Fn
      const branch = compilePipeline(def.steps, host, counter)
      const parallel = def.parallel
      const runAll = async (ex: DefaultExchange, items: Iterable<unknown>): Promise<unknown> => {
        const parts = Array.from(items, (item) => copyOf(ex, item))
        if (parallel) await Promise.all(parts.map(async (p) => branch.run(p)))
        else for (const p of parts) await branch.run(p)
        const failed = parts.find((p) => p.exception !== undefined)
        if (failed !== undefined) throw failed.exception
        return undefined
      }
      return {
        nodeId,
        run(ex) {
          const items = fn(ex)
          if (isThenable(items)) return items.then((it) => runAll(ex, it as Iterable<unknown>))
          return runAll(ex, items as Iterable<unknown>)
        },
      }
    }
    case 'to': {
      const producer = host.producerFor(def.uri)
      return { nodeId, run: (ex) => producer.process(ex) }
    }
    case 'toD': {
      const fn = def.fn as (ex: DefaultExchange) => string
      return { nodeId, run: (ex) => host.producerFor(fn(ex)).process(ex) }
    }
    case 'wireTap': {
      const producer = host.producerFor(def.uri)
      const { logger, routeId } = host
      const onError = (err: unknown) =>
        logger.warn({ route: routeId, err }, `wireTap to ${def.uri} failed: ${messageOf(err)}`)
      return {
        nodeId,
        run(ex) {
          try {
            const r = producer.process(copyOf(ex, ex.message.body))
            if (isThenable(r)) r.then(undefined, onError)
          } catch (err) {
            onError(err)
          }
        },
      }
    }
    case 'multicast': {
      const producers = def.uris.map((u) => host.producerFor(u))
      return {
        nodeId,
        async run(ex) {
          for (const p of producers) {
            const copy = copyOf(ex, ex.message.body)
            await p.process(copy)
            if (copy.exception !== undefined) throw copy.exception
          }
        },
      }
    }
    case 'log': {
      const msg = def.message
      const { logger, routeId } = host
      const render =
        typeof msg === 'function'
          ? (msg as (ex: DefaultExchange) => string)
          : (ex: DefaultExchange) =>
              String(msg).replaceAll('${body}', bodyText(ex.message.body)).replaceAll('${id}', ex.id)
      return {
        nodeId,
        run(ex) {
          logger.info({ route: routeId, exchangeId: ex.id }, render(ex))
        },
      }
    }
    case 'marshal':
      return {
        nodeId,
        run(ex) {
          try {
            ex.message.body = JSON.stringify(ex.message.body)
          } catch (err) {
            throw errors.marshal(err)
          }
        },
      }
    case 'unmarshal':
      return {
        nodeId,
        run(ex) {
          const b = ex.message.body
          const text =
            typeof b === 'string' ? b : b instanceof Uint8Array ? Buffer.from(b).toString('utf8') : undefined
          if (text === undefined) {
            if (b !== null && typeof b === 'object') return // already structured
            throw errors.unmarshal(new TypeError(`body is ${typeof b}`))
          }
          try {
            ex.message.body = JSON.parse(text)
          } catch (err) {
            throw errors.unmarshal(err)
          }
        },
      }
    case 'throttle':
      return throttleStep(nodeId, def.count, def.perMs, host)
    case 'delay': {
      const { ms } = def
      const { scheduler } = host
      return { nodeId, run: (ex) => scheduler.sleep(ex, ms) }
    }
    case 'asyncRoute': {
      const producer = host.producerFor(def.uri)
      const { delayMs } = def
      if (delayMs > 30_000)
        host.warnOnce(
          `asyncRoute:${nodeId}`,
          `Route ${host.routeId}: asyncRoute delay of ${delayMs} ms exceeds Kamailio's 30000 ms maximum; allowed, but long suspensions hold shutdown`,
        )
      const { scheduler } = host
      const resume = async (ex: DefaultExchange): Promise<typeof STOP> => {
        host.assertAcceptingAsync('asyncRoute')
        if (delayMs > 0) await scheduler.sleep(ex, delayMs)
        await producer.process(ex)
        // The target route's failure is the exchange's failure; its own handler already ran.
        if (ex.exception !== undefined) {
          const e = ex.exception
          ex.exception = undefined
          throw e
        }
        return STOP
      }
      return { nodeId, run: resume }
    }
    case 'asyncTask': {
      const producer = host.producerFor(def.uri)
      const group = host.workerGroup(def.group)
      const owner = host.pendingOwner
      return {
        nodeId,
        run(ex) {
          host.assertAcceptingAsync('asyncTask')
          return new Promise<unknown>((resolve, reject) => {
            group.submit({
              owner,
              run() {
                const r = producer.process(ex)
                if (isThenable(r)) return Promise.resolve(r).then(() => resolve(STOP), reject)
                resolve(STOP)
              },
              drop(reason) {
                ex.abort(reason)
                reject(errors.aborted(reason))
              },
            })
          })
        },
      }
    }
    case 'asyncTaskData': {
      const { uri } = def
      host.producerFor(uri) // validates the URI at start
      const fn = def.fn as Fn
      const group = host.workerGroup(def.group)
      const owner = host.pendingOwner
      const { logger, routeId } = host
      return {
        nodeId,
        run(ex) {
          host.assertAcceptingAsync('asyncTaskData')
          const data = fn(ex)
          group.submit({
            owner,
            run: () => host.dispatchNew(uri, data, {}),
            drop(reason) {
              logger.debug({ route: routeId }, `asyncTaskData for ${uri} dropped: ${reason}`)
            },
          })
        },
      }
    }
    case 'emitEvent': {
      const { type, key } = def
      const fn = def.valueFn as Fn
      return {
        nodeId,
        run(ex) {
          host.emitEvent(type, key, fn(ex))
        },
      }
    }
  }
}

function throttleStep(nodeId: string, count: number, perMs: number, host: CompileHost): Step {
  if (!Number.isInteger(count) || count < 1 || !(perMs > 0))
    throw errors.invalidRoute(host.routeId, `throttle(${count}, ${perMs}) needs count >= 1 and perMs > 0`)
  // Sliding window in O(1): the i-th exchange may pass no earlier than `perMs` after the (i - count)-th.
  const passes = new Array<number>(count).fill(Number.NEGATIVE_INFINITY)
  let slot = 0
  const { scheduler } = host
  return {
    nodeId,
    run(ex) {
      const now = Date.now()
      const at = Math.max(now, passes[slot]! + perMs)
      passes[slot] = at
      slot = (slot + 1) % count
      if (at > now) return scheduler.sleep(ex, at - now)
    },
  }
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body
  try {
    return JSON.stringify(body) ?? String(body)
  } catch {
    return String(body)
  }
}
