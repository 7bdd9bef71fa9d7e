import type { DelayScheduler } from '../async/delay-scheduler.js'
import type { PendingOwner, WorkerGroup, WorkerTask } from '../async/worker-group.js'
import { compileIdempotentConsumer } from './idempotent-step.js'
import { BLOCK_ERROR_HANDLER, compileTransacted } from './transacted-step.js'
import { errors, messageOf } from '../errors.js'
import { bodyText } from '../exchange/body-text.js'
import { copyHeaders, DefaultExchange } from '../exchange/exchange.js'
import type { Context } from '@opentelemetry/api'
import type { StepDefinition } from '../route/route-definition.js'
import type { Producer } from '../spi/component.js'
import type { Logger } from '../spi/logger.js'
import { sendTraced } from '../tracing/producer-span.js'
import type { RouteTracing } from '../tracing/tracer.js'
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
  /** The route's tracer while tracing is on: producer steps then send inside a span of their own. */
  readonly tracing: RouteTracing
  producerFor(uri: string): Producer
  workerGroup(name: string): WorkerGroup
  emitEvent(type: string, key: string, value: unknown): void
  /** Rejects async work once shutdown is at NOW. */
  assertAcceptingAsync(what: string): void
  /** Sends new data to `uri` as a new exchange of this route, tracked in flight here until done. */
  dispatchNew(
    uri: string,
    body: unknown,
    headers: Record<string, unknown>,
    trace: Context | undefined,
  ): void | Promise<void>
  /** Counts a queued task a forced stop dropped before it ran as `aborted` in the route metrics. */
  recordDropped(): void
  warnOnce(key: string, message: string): void
  /** Tracks a copy (`split`, `multicast`, `wireTap`) in flight in this route until `untrack`. */
  track(copy: DefaultExchange): void
  untrack(copy: DefaultExchange): void
  /** The producer for a `toD` URI, from the route's bounded cache; resolves once it is started. */
  dynamicProducer(uri: string): Producer | Promise<Producer>
}

/** Kamailio's maximum for `async_ms_sleep` / `async_ms_route`; longer waits are allowed but warned about. */
const KAMAILIO_MAX_MS = 30_000

// A suspending step frees the consumer slot the exchange holds (seda), as Kamailio frees the SIP worker.
function suspend(ex: DefaultExchange): void {
  const slot = ex.slot
  if (slot !== undefined) slot.release(ex)
}

function checkDelay(host: CompileHost, nodeId: string, what: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0)
    throw errors.invalidRoute(host.routeId, `${what} needs a delay >= 0 ms, got ${ms}`)
  if (ms > KAMAILIO_MAX_MS)
    host.warnOnce(
      `${host.routeId}:${nodeId}`,
      `Route ${host.routeId}: ${what} of ${ms} ms at ${nodeId} exceeds Kamailio's ${KAMAILIO_MAX_MS} ms maximum; allowed, but a graceful shutdown waits for it`,
    )
}

/** Compiles step definitions into a pipeline; node ids are numbered per route (`process1`, `to2`). @internal */
export function compilePipeline(
  defs: readonly StepDefinition[],
  host: CompileHost,
  counter = { n: 0 },
): Pipeline {
  const steps: Step[] = []
  for (let i = 0; i < defs.length; i++) {
    const d = defs[i]!
    const nodeId = `${d.kind}${++counter.n}`
    if (d.kind === 'idempotentConsumer') {
      // It wraps the rest of the route (or branch), to act when the exchange's run through it has ended.
      const rest = compilePipeline(defs.slice(i + 1), host, counter)
      steps.push(compileIdempotentConsumer(d, nodeId, rest, host))
      break
    }
    steps.push(compileStep(d, host, nodeId, counter))
  }
  return new Pipeline(steps, host.errorHandler, host.routeId)
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

/** A tracked copy of `ex` for `split`/`multicast`, aborted with `ex` while it runs (SPEC §2.1). */
function copyOf(host: CompileHost, ex: DefaultExchange, body: unknown): DefaultExchange {
  const c = ex.copy(body)
  host.track(c)
  return c
}

function releaseCopy(host: CompileHost, ex: DefaultExchange, c: DefaultExchange): void {
  ex.unlinkCopy(c)
  host.untrack(c)
}

/** Sends through `producer`, inside a producer span when the route traces. */
function send(
  host: CompileHost,
  step: string,
  uri: string,
  producer: Producer,
  ex: DefaultExchange,
): void | Promise<void> {
  const tracer = host.tracing.tracer
  return tracer === undefined
    ? producer.process(ex)
    : sendTraced(tracer, host.routeId, step, uri, ex, producer)
}

/** Runs `produce` on a tracked copy and releases it when done, synchronously when it finished so. */
function runCopy(
  host: CompileHost,
  ex: DefaultExchange,
  c: DefaultExchange,
  produce: (c: DefaultExchange) => void | Promise<void>,
): void | Promise<void> {
  let r: void | Promise<void>
  try {
    r = produce(c)
  } catch (err) {
    c.exception = err
    releaseCopy(host, ex, c)
    return
  }
  if (r === undefined) return releaseCopy(host, ex, c)
  return r.then(
    () => releaseCopy(host, ex, c),
    (err: unknown) => {
      c.exception = err
      releaseCopy(host, ex, c)
    },
  )
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
        scope: true,
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
      // A part's failure already went through the error handler inside the branch: like `choice`, the parent
      // takes the failure over and stops, instead of handling (and redelivering) it a second time.
      const outcome = (ex: DefaultExchange, parts: readonly DefaultExchange[]): StepResult => {
        const failed = parts.find((p) => p.exception !== undefined)
        if (failed === undefined) return undefined
        ex.exception = failed.exception
        return STOP
      }
      const runPart = (ex: DefaultExchange, part: DefaultExchange) =>
        runCopy(host, ex, part, (p) => branch.run(p))
      const runRest = async (
        ex: DefaultExchange,
        parts: readonly DefaultExchange[],
        next: number,
        pending: Promise<void>,
      ): Promise<unknown> => {
        await pending
        for (let i = next; i < parts.length; i++) await runPart(ex, parts[i]!)
        return outcome(ex, parts)
      }
      // Sequential parts that all run synchronously cost no promise. Every part is a tracked copy from the
      // start, so a forced stop aborts the parts not yet run too.
      const runAll = (ex: DefaultExchange, items: Iterable<unknown>): StepResult => {
        const parts = Array.from(items, (item) => copyOf(host, ex, item))
        if (parallel)
          return Promise.all(parts.map(async (p) => runPart(ex, p))).then(() => outcome(ex, parts))
        for (let i = 0; i < parts.length; i++) {
          const r = runPart(ex, parts[i]!)
          if (r !== undefined) return runRest(ex, parts, i + 1, r)
        }
        return outcome(ex, parts)
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
      const { uri } = def
      const { tracing } = host
      return {
        nodeId,
        run: (ex) =>
          tracing.tracer === undefined ? producer.process(ex) : send(host, 'to', uri, producer, ex),
      }
    }
    case 'toD': {
      const fn = def.fn as (ex: DefaultExchange) => string
      const sendWhenStarted = async (ex: DefaultExchange, uri: string, p: Promise<Producer>) =>
        send(host, 'toD', uri, await p, ex)
      return {
        nodeId,
        run(ex) {
          const uri = fn(ex)
          const p = host.dynamicProducer(uri)
          return isThenable(p) ? sendWhenStarted(ex, uri, p) : send(host, 'toD', uri, p, ex)
        },
      }
    }
    case 'wireTap': {
      const producer = host.producerFor(def.uri)
      const { logger, routeId } = host
      const onError = (err: unknown) =>
        logger.warn({ route: routeId, err }, `wireTap to ${def.uri} failed: ${messageOf(err)}`)
      return {
        nodeId,
        run(ex) {
          // Not linked to `ex` (it outlives it), but tracked in this route until delivered, so a drain waits
          // for it and a forced stop aborts it.
          const c = new DefaultExchange(
            ex.fromRouteId,
            ex.fromUri,
            ex.message.body,
            copyHeaders(ex.message.headers),
          )
          c.atRouteId = ex.atRouteId
          const trace = ex.traceContext
          if (trace !== undefined) c.traceContext = trace
          host.track(c)
          const done = () => {
            host.untrack(c)
            if (c.exception !== undefined) onError(c.exception)
          }
          let r: void | Promise<void>
          try {
            r = send(host, 'wireTap', def.uri, producer, c)
          } catch (err) {
            c.exception = err
            return done()
          }
          if (r === undefined) return done()
          r.then(done, (err: unknown) => {
            c.exception = err
            done()
          })
        },
      }
    }
    case 'multicast': {
      const producers = def.uris.map((u) => host.producerFor(u))
      const { uris } = def
      const sendCopy = (ex: DefaultExchange, i: number, c: DefaultExchange) =>
        runCopy(host, ex, c, (x) => send(host, 'multicast', uris[i]!, producers[i]!, x))
      const sendRest = async (
        ex: DefaultExchange,
        copy: DefaultExchange,
        pending: Promise<void>,
        next: number,
      ): Promise<void> => {
        await pending
        if (copy.exception !== undefined) throw copy.exception
        for (let i = next; i < producers.length; i++) {
          if (ex.abortReason !== undefined) throw errors.aborted(ex.abortReason)
          const c = copyOf(host, ex, ex.message.body)
          await sendCopy(ex, i, c)
          if (c.exception !== undefined) throw c.exception
        }
      }
      return {
        nodeId,
        // Targets that all answer synchronously cost no promise.
        run(ex) {
          for (let i = 0; i < producers.length; i++) {
            const copy = copyOf(host, ex, ex.message.body)
            const r = sendCopy(ex, i, copy)
            if (r !== undefined) return sendRest(ex, copy, r, i + 1)
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
          : // Replacer functions, not strings: a body containing `$&` or `$'` is text, not a pattern.
            (ex: DefaultExchange) =>
              String(msg)
                .replaceAll('${body}', () => bodyText(ex.message.body))
                .replaceAll('${id}', () => ex.id)
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
      if (typeof ms !== 'number') {
        // Computed per exchange (a leaky-bucket shaper): zero or less (or not a number) continues at once.
        const fn = ms as (ex: DefaultExchange) => number
        return {
          nodeId,
          run(ex) {
            const wait = fn(ex)
            if (!(wait > 0)) return
            if (wait > KAMAILIO_MAX_MS) checkDelay(host, nodeId, 'delay', wait)
            const p = scheduler.sleep(ex, wait)
            suspend(ex)
            return p
          },
        }
      }
      checkDelay(host, nodeId, 'delay', ms)
      return {
        nodeId,
        run(ex) {
          const p = scheduler.sleep(ex, ms)
          suspend(ex)
          return p
        },
      }
    }
    case 'asyncRoute': {
      const producer = host.producerFor(def.uri)
      const { delayMs } = def
      checkDelay(host, nodeId, 'asyncRoute', delayMs)
      const { scheduler } = host
      const resume = async (ex: DefaultExchange): Promise<typeof STOP> => {
        if (delayMs > 0) await scheduler.sleep(ex, delayMs, 'asyncRoute')
        await producer.process(ex)
        // The target route's failure is the exchange's failure; its own handler already ran.
        if (ex.exception !== undefined) {
          const e = ex.exception
          ex.exception = undefined
          throw e
        }
        return STOP
      }
      return {
        nodeId,
        run(ex) {
          host.assertAcceptingAsync('asyncRoute')
          const p = resume(ex)
          suspend(ex)
          return p
        },
      }
    }
    case 'asyncTask': {
      const producer = host.producerFor(def.uri)
      const group = host.workerGroup(def.group)
      const owner = host.pendingOwner
      return {
        nodeId,
        run(ex) {
          host.assertAcceptingAsync('asyncTask')
          const p = new Promise<unknown>((resolve, reject) => {
            const task: WorkerTask = {
              owner,
              tracked: true,
              run() {
                ex.waiting = undefined
                if (ex.abortReason !== undefined) return reject(errors.aborted(ex.abortReason))
                let r: void | Promise<void>
                try {
                  r = producer.process(ex)
                } catch (err) {
                  return reject(err)
                }
                if (r === undefined) return resolve(STOP)
                return r.then(() => resolve(STOP), reject)
              },
              drop(reason) {
                const fresh = ex.abort(reason)
                reject(errors.aborted(ex.abortReason ?? reason))
                return fresh
              },
            }
            // Queued for a worker: an abort takes it out of the queue at once.
            if (group.submit(task)) ex.waiting = () => group.cancel(task, ex.abortReason ?? 'aborted')
          })
          suspend(ex)
          return p
        },
      }
    }
    case 'asyncTaskData': {
      const { uri } = def
      host.producerFor(uri) // validates the URI at addRoutes
      const fn = def.fn as Fn
      const group = host.workerGroup(def.group)
      const owner = host.pendingOwner
      const { logger, routeId } = host
      const submit = (data: unknown, trace: Context | undefined): void => {
        group.submit({
          owner,
          tracked: false,
          run: () => host.dispatchNew(uri, data, {}, trace),
          drop(reason) {
            logger.debug({ route: routeId }, `asyncTaskData for ${uri} dropped: ${reason}`)
            host.recordDropped()
            return true
          },
        })
      }
      return {
        nodeId,
        run(ex) {
          host.assertAcceptingAsync('asyncTaskData')
          const data = fn(ex)
          // The caller is not suspended; it only waits when the data itself is a promise.
          // The new exchange's called route parents on this exchange's span (tracing on).
          const trace = ex.traceContext
          if (isThenable(data)) return Promise.resolve(data).then((d) => submit(d, trace))
          submit(data, trace)
        },
      }
    }
    case 'idempotentConsumer':
      throw new Error('unreachable: compilePipeline compiles idempotentConsumer')
    case 'transacted': {
      const block = compilePipeline(def.steps, { ...host, errorHandler: BLOCK_ERROR_HANDLER }, counter)
      return compileTransacted(def.policy, nodeId, block)
    }
    case 'emitEvent': {
      const { type, key } = def
      const fn = def.valueFn as Fn
      return {
        nodeId,
        run(ex) {
          host.assertAcceptingAsync('emitEvent')
          const value = fn(ex)
          if (isThenable(value)) return Promise.resolve(value).then((v) => host.emitEvent(type, key, v))
          host.emitEvent(type, key, value)
        },
      }
    }
  }
}

function throttleStep(nodeId: string, count: number, perMs: number, host: CompileHost): Step {
  if (!Number.isInteger(count) || count < 1 || !(perMs > 0))
    throw errors.invalidRoute(host.routeId, `throttle(${count}, ${perMs}) needs count >= 1 and perMs > 0`)
  // Sliding window in O(1): the i-th exchange may pass no earlier than `perMs` after the (i - count)-th.
  // The ring grows with traffic instead of being allocated up front: `throttle(1e9, 1000)` ("no real limit")
  // must not allocate a billion slots at addRoutes (found by test/reliability fuzz-dsl-and-uris).
  const passes: number[] = []
  let slot = 0
  const { scheduler } = host
  return {
    nodeId,
    run(ex) {
      const now = Date.now()
      if (passes.length < count) {
        passes.push(now)
        return
      }
      const at = Math.max(now, passes[slot]! + perMs)
      passes[slot] = at
      slot = (slot + 1) % count
      if (at > now) return scheduler.sleep(ex, at - now)
    },
  }
}
