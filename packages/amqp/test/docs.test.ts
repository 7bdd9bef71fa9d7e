import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { AmqpErrorCodes } from '../src/index.js'

const doc = readFileSync(new URL('../../../docs/amqp.md', import.meta.url), 'utf8')

describe('docs/amqp.md', () => {
  it('lists every error code', () => {
    const missing = Object.values(AmqpErrorCodes).filter((code) => !doc.includes(`\`${code}\``))
    expect(missing).toEqual([])
  })

  it('lists no error code that does not exist', () => {
    const known = new Set<string>(Object.values(AmqpErrorCodes))
    const listed = [...doc.matchAll(/`(DROMEDARY_ERR_AMQP_[A-Z_]+)`/g)].map((m) => m[1]!)
    expect(listed.filter((code) => !known.has(code))).toEqual([])
  })

  it.each([
    'prefetch',
    'concurrency',
    'durable',
    'exclusive',
    'autoDelete',
    'passive',
    'deadLetterExchange',
    'deadLetterRoutingKey',
    'maxRedeliveries',
    'contentType',
    'routingKey',
    'persistent',
    'mandatory',
    'exchangeType',
  ])('documents the %s option in a table row', (option) => {
    expect(doc).toMatch(new RegExp(`^\\| \`${option}\` \\|`, 'm'))
  })
})
