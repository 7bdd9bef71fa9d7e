// fuzz-amqp-input: messages published raw with amqplib to a consumer app — malformed JSON, JSON of the wrong
// shape, valid orders under wrong content types, random bytes, empty bodies, random headers and properties
// (including spoofed amqp.* and x-delivery-count headers), and 8 MiB messages — to a queue with a dead-letter
// exchange and to one without. Holds when every valid order is processed exactly once, every other message
// is dead-lettered (first queue) or rejected (second queue) with a log line, nothing stays in the queues,
// and the consumer is still up afterwards (a canary order is processed; it then stops gracefully).
import fc from 'fast-check'
import { join } from 'node:path'
import { App } from '../lib/child.mjs'
import {
  AMQP_URL,
  declareDeadLetter,
  deleteTopology,
  drainQueue,
  queueState,
  uniqueName,
  withConnection,
} from '../lib/broker.mjs'
import { RUN_DIR } from '../lib/paths.mjs'
import { row } from '../lib/report.mjs'
import { readLines, tally, waitFor } from '../lib/util.mjs'

// The consumer's documented rule for JSON content (docs/amqp.md, contentType=auto).
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i
const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.order+json',
]
const OTHER_TYPES = [
  'text/plain',
  'application/octet-stream',
  'application/xml',
  'json',
  'application/jsonx',
  'application/json-patch',
  'text/json',
  '',
]
const HUGE = 8 * 1024 * 1024

const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  // A nested table; not with a key '!', which amqplib reads as its own typed-value marker and refuses to send.
  fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '!'),
    fc.string({ maxLength: 8 }),
    { maxKeys: 2 },
  ),
)
const headers = fc.dictionary(
  fc.oneof(
    // Not `CC` or `BCC`: RabbitMQ reads those as sender-selected routing keys (an array of strings) and closes
    // the publisher's channel for anything else (`unacceptable_type_in_header`), before any consumer sees it.
    fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== 'CC' && k !== 'BCC'),
    fc.constantFrom(
      'amqp.messageId',
      'amqp.redelivered',
      'x-delivery-count',
      'http.status',
      'dromedary.redeliveryCounter',
    ),
  ),
  headerValue,
  { maxKeys: 4 },
)
const properties = fc.record(
  {
    messageId: fc.boolean(), // true: message-id = the fuzz id; false: none
    correlationId: fc.string({ maxLength: 20 }),
    contentEncoding: fc.constantFrom('gzip', 'utf-8', 'x-junk', ''),
    type: fc.string({ maxLength: 10 }),
    appId: fc.string({ maxLength: 10 }),
    priority: fc.integer({ min: 0, max: 9 }),
    headers,
  },
  { requiredKeys: ['messageId', 'headers'] },
)
const notJson = fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => !parses(s))
const kind = fc.oneof(
  fc.record({
    kind: fc.constant('valid'),
    type: fc.constantFrom(...JSON_TYPES),
    extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }),
  }),
  fc.record({ kind: fc.constant('malformed-json'), type: fc.constantFrom(...JSON_TYPES), text: notJson }),
  fc.record({
    kind: fc.constant('wrong-shape'),
    type: fc.constantFrom(...JSON_TYPES),
    value: fc.jsonValue(),
  }),
  fc.record({
    kind: fc.constant('wrong-type'),
    type: fc.oneof(fc.constantFrom(...OTHER_TYPES), fc.string({ maxLength: 30 }), fc.constant(undefined)),
  }),
  fc.record({
    kind: fc.constant('binary'),
    type: fc.oneof(fc.constantFrom(...JSON_TYPES, ...OTHER_TYPES), fc.constant(undefined)),
    bytes: fc.uint8Array({ maxLength: 2048 }),
  }),
  fc.record({
    kind: fc.constant('empty'),
    type: fc.oneof(fc.constantFrom(...JSON_TYPES, ...OTHER_TYPES), fc.constant(undefined)),
  }),
)

function parses(s) {
  try {
    JSON.parse(s)
    return true
  } catch {
    return false
  }
}

/** Content of a generated message, and whether the consumer's documented rules make it a valid order. */
function build(m, id) {
  let content
  switch (m.kind) {
    case 'valid':
    case 'wrong-type':
      content = Buffer.from(JSON.stringify({ ...(m.extra ?? {}), id, valid: true }))
      break
    case 'malformed-json':
      content = Buffer.from(m.text)
      break
    case 'wrong-shape':
      content = Buffer.from(JSON.stringify(m.value))
      break
    case 'binary':
      content = Buffer.from(m.bytes)
      break
    case 'empty':
      content = Buffer.alloc(0)
      break
  }
  return { content, valid: isValidOrder(content, m.type, id) }
}

function isValidOrder(content, type, id) {
  if (typeof type !== 'string' || !JSON_TYPE.test(type)) return false
  try {
    const body = JSON.parse(content.toString('utf8'))
    return typeof body === 'object' && body !== null && body.valid === true && body.id === id
  } catch {
    return false
  }
}

export default {
  name: 'fuzz-amqp-input',
  async run({ quick, log }) {
    const perQueue = quick ? 400 : 1500
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
    log(`  seed ${seed} (FUZZ_SEED=${seed} repeats this run)`)
    const withDlx = uniqueName('fuzz.dlx-queue')
    const withoutDlx = uniqueName('fuzz.plain-queue')
    const dlx = uniqueName('fuzz.dlx')
    const dlq = uniqueName('fuzz.dlq')
    const ledgerFile = join(RUN_DIR, `${withDlx}.ledger`)
    const problems = []
    let app
    try {
      await declareDeadLetter(dlx, dlq)
      app = new App(
        'amqp-fuzz.mjs',
        { url: AMQP_URL, withDlx, withoutDlx, dlx, ledger: ledgerFile },
        { name: 'amqp-fuzz' },
      )
      await app.next('ready')

      // The messages: perQueue generated ones per queue, plus a valid and a malformed 8 MiB one each.
      const generated = fc.sample(fc.tuple(kind, properties), { numRuns: perQueue * 2, seed })
      const sent = [] // { id, queue, valid, kind }
      await withConnection(async (conn) => {
        const ch = await conn.createConfirmChannel()
        const publish = async (queue, id, content, props, kindName, valid) => {
          const { messageId, headers: h, ...rest } = props
          const options = { ...rest, headers: { ...h, 'x-fuzz-id': id }, persistent: true }
          if (messageId) options.messageId = id
          if (props.contentType !== undefined) options.contentType = props.contentType
          if (!ch.sendToQueue(queue, content, options))
            await new Promise((resolve) => ch.once('drain', resolve))
          sent.push({ id, queue, valid, kind: kindName })
        }
        for (let i = 0; i < generated.length; i++) {
          const [m, props] = generated[i]
          const queue = i % 2 === 0 ? withDlx : withoutDlx
          const id = `z${i}`
          const { content, valid } = build(m, id)
          await publish(queue, id, content, { ...props, contentType: m.type }, m.kind, valid)
          if (i % 200 === 199) await ch.waitForConfirms()
        }
        for (const queue of [withDlx, withoutDlx]) {
          const id = `huge-valid-${queue.slice(-4)}`
          const pad = 'x'.repeat(HUGE)
          await publish(
            queue,
            id,
            Buffer.from(JSON.stringify({ id, valid: true, pad })),
            { messageId: true, headers: {}, contentType: 'application/json' },
            'huge',
            true,
          )
          const bad = `huge-bad-${queue.slice(-4)}`
          await publish(
            queue,
            bad,
            Buffer.from(`{"id":"${bad}","valid":true,"pad":"${pad}`),
            { messageId: true, headers: {}, contentType: 'application/json' },
            'huge',
            false,
          )
        }
        await ch.waitForConfirms()
        await ch.close()
      })

      const validIds = sent.filter((s) => s.valid).map((s) => s.id)
      const invalidDlx = sent.filter((s) => !s.valid && s.queue === withDlx)
      const invalidPlain = sent.filter((s) => !s.valid && s.queue === withoutDlx)
      const warnLines = () => logLines(app.logFile, 'warn', 'dead-lettered')
      const errorLines = () => logLines(app.logFile, 'error', 'was rejected')
      const settled = await waitFor(
        async () =>
          new Set(readLines(ledgerFile)).size >= validIds.length &&
          warnLines() >= invalidDlx.length &&
          errorLines() >= invalidPlain.length &&
          (await queueState(withDlx)).messages === 0 &&
          (await queueState(withoutDlx)).messages === 0,
        { timeoutMs: 120_000, intervalMs: 250 },
      )
      if (!settled) problems.push('not every message reached an outcome in 120 s')

      // Still up: a canary order on each queue is processed.
      await withConnection(async (conn) => {
        const ch = await conn.createConfirmChannel()
        for (const queue of [withDlx, withoutDlx])
          ch.sendToQueue(queue, Buffer.from(JSON.stringify({ id: `canary-${queue}`, valid: true })), {
            contentType: 'application/json',
            messageId: `canary-${queue}`,
          })
        await ch.waitForConfirms()
        await ch.close()
      })
      const canaries = await waitFor(
        () => readLines(ledgerFile).filter((l) => l.startsWith('canary-')).length === 2,
        { timeoutMs: 30_000 },
      )
      if (!canaries) problems.push('the consumer did not process the canary orders afterwards')
      app.signal('SIGTERM')
      const stopped = await app.next('stopped', 60_000).catch(() => undefined)
      const exit = await app.waitExit(30_000)
      if (stopped?.report.graceful !== true || exit.code !== 0)
        problems.push(`the consumer did not stop gracefully (exit ${exit.code ?? exit.signal})`)

      // Outcomes.
      const processed = tally(readLines(ledgerFile).filter((l) => !l.startsWith('canary-')))
      const deadLettered = tally(await drainQueue(dlq))
      const leftovers = [...(await drainQueue(withDlx)), ...(await drainQueue(withoutDlx))]
      const rejectedLogged = errorLines()
      let correct = 0
      let lost = 0
      let duplicated = 0
      const wrong = []
      for (const s of sent) {
        const p = processed.get(s.id) ?? 0
        const d = deadLettered.get(s.id) ?? 0
        duplicated += Math.max(0, p + d - 1)
        const ok = s.valid
          ? p === 1 && d === 0
          : s.queue === withDlx
            ? d === 1 && p === 0
            : p === 0 && d === 0
        if (ok) correct++
        else if (s.valid ? p === 0 : s.queue === withDlx && d === 0 && p === 0) {
          lost++
          if (wrong.length < 3) wrong.push(`${s.id} (${s.kind}) had no outcome`)
        } else if (wrong.length < 3)
          wrong.push(
            `${s.id} (${s.kind}, ${s.valid ? 'valid' : 'invalid'}): processed ${p}, dead-lettered ${d}`,
          )
      }
      // Messages of the queue without a dead-letter exchange leave only their log line.
      if (rejectedLogged !== invalidPlain.length) {
        problems.push(
          `${rejectedLogged} rejection lines logged for ${invalidPlain.length} invalid messages without a DLX`,
        )
        lost += Math.max(0, invalidPlain.length - rejectedLogged)
      }
      if (warnLines() !== invalidDlx.length)
        problems.push(
          `${warnLines()} dead-letter lines logged for ${invalidDlx.length} dead-lettered messages`,
        )
      if (leftovers.length > 0) problems.push(`${leftovers.length} messages left in the queues`)
      problems.push(...wrong)
      const kinds = tally(sent.map((s) => s.kind))
      log(
        `  ${sent.length} sent (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}); ${validIds.length} valid, ${invalidDlx.length} dead-lettered, ${invalidPlain.length} rejected`,
      )
      return [
        row({
          scenario: 'fuzz-amqp-input',
          trials: 1,
          sent: sent.length,
          processed: correct,
          lost,
          duplicated,
          passed: correct === sent.length && lost === 0 && duplicated === 0 && problems.length === 0,
          notes: [
            `seed ${seed}; ${validIds.length} valid orders processed once, ${invalidDlx.length} dead-lettered, ${invalidPlain.length} rejected with an error log (no DLX); 2 × 8 MiB per queue; canary processed after`,
            ...problems.slice(0, 4),
          ].join('; '),
        }),
      ]
    } finally {
      if (app?.running) await app.kill()
      await deleteTopology({ queues: [withDlx, withoutDlx, dlq], exchanges: [dlx] })
    }
  },
}

function logLines(file, level, text) {
  return readLines(file).filter((l) => l.includes(`"level":"${level}"`) && l.includes(text)).length
}
