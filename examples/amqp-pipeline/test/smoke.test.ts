import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  brokerReachable,
  ensureBuilt,
  shutdownLines,
  startExample,
  type ExampleProcess,
} from '../../../test/support/example-process.js'
import { deleteTopology, pipelineNames } from '../src/topology.js'

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
// A prefix of its own, so the run neither sees nor leaves messages of another.
const names = pipelineNames(`smoke-${randomUUID().slice(0, 8)}`)
let broker = false
let app: ExampleProcess | undefined

beforeAll(async () => {
  broker = await brokerReachable(AMQP_URL)
  if (!broker && process.env.CI === 'true')
    throw new Error(
      `RabbitMQ is not reachable at ${AMQP_URL}; CI=true requires it for the amqp-pipeline smoke test`,
    )
  if (broker) ensureBuilt('amqp-pipeline')
}, 120_000)

afterAll(async () => {
  app?.kill()
  if (broker) await deleteTopology(AMQP_URL, names)
})

describe('examples/amqp-pipeline', () => {
  it('enriches and publishes the good orders, dead-letters the poison ones, and drains on SIGTERM', async (t) => {
    if (!broker) {
      console.warn(`Skipping the amqp-pipeline smoke test: RabbitMQ is not reachable at ${AMQP_URL}`)
      t.skip()
    }
    app = startExample('amqp-pipeline', { AMQP_URL, PIPELINE_PREFIX: names.input.replace(/\.in$/, '') })

    await app.waitForLine((l) => l.msg.startsWith('AMQP pipeline ready'))
    const done = await app.waitForLine((l) => l.msg.startsWith('All 6 seeded messages accounted for'))
    app.child.kill('SIGTERM')
    const exit = await app.exited

    expect(done).toMatchObject({ published: 4, deadLettered: 2 })
    expect(exit, app.output()).toEqual({ code: 0, signal: null })
    const { summary, stopped } = shutdownLines(app, ['enrich', 'downstream', 'dead-letters'])
    expect(summary?.msg, app.output()).toMatch(/^Graceful shutdown of 3 routes completed in/)
    expect(stopped).toEqual(['enrich', 'downstream', 'dead-letters'])
  })
})
