import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { RedisErrorCodes } from '../src/index.js'

const doc = readFileSync(new URL('../../../docs/redis.md', import.meta.url), 'utf8')

describe('docs/redis.md', () => {
  it('lists every error code', () => {
    const missing = Object.values(RedisErrorCodes).filter((code) => !doc.includes(`\`${code}\``))
    expect(missing).toEqual([])
  })

  it('lists no error code that does not exist', () => {
    const known = new Set<string>(Object.values(RedisErrorCodes))
    const listed = [...doc.matchAll(/`(DROMEDARY_ERR_REDIS_[A-Z_]+)`/g)].map((m) => m[1]!)
    expect(listed.filter((code) => !known.has(code))).toEqual([])
  })

  it.each([
    'group',
    'consumer',
    'batch',
    'blockMs',
    'minIdleMs',
    'claimIntervalMs',
    'maxDeliveries',
    'deadLetterStream',
    'startId',
    'createGroup',
    'contentType',
    'maxLen',
    'keyPrefix',
    'ttlSeconds',
  ])('documents the %s option in a table row', (option) => {
    expect(doc).toMatch(new RegExp(`^\\| \`${option}\` \\|`, 'm'))
  })
})
