import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { NatsErrorCodes } from '../src/index.js'

const doc = readFileSync(new URL('../../../docs/nats.md', import.meta.url), 'utf8')

describe('docs/nats.md', () => {
  it('lists every error code', () => {
    const missing = Object.values(NatsErrorCodes).filter((code) => !doc.includes(`\`${code}\``))
    expect(missing).toEqual([])
  })

  it('lists no error code that does not exist', () => {
    const known = new Set<string>(Object.values(NatsErrorCodes))
    const listed = [...doc.matchAll(/`(DROMEDARY_ERR_NATS_[A-Z_]+)`/g)].map((m) => m[1]!)
    expect(listed.filter((code) => !known.has(code))).toEqual([])
  })

  it.each([
    'consumer',
    'batch',
    'ackWaitMs',
    'maxDeliveries',
    'deadLetterSubject',
    'nakDelayMs',
    'expiresMs',
    'filterSubject',
    'deliverPolicy',
    'create',
    'contentType',
    'timeoutMs',
  ])('documents the %s option in a table row', (option) => {
    expect(doc).toMatch(new RegExp(`^\\| \`${option}\` \\|`, 'm'))
  })
})
