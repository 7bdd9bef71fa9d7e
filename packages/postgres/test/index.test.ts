import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

describe('@dromedary/postgres public API', () => {
  it('exports exactly the curated runtime values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'OUTBOX_MESSAGE_ID_HEADER',
      'OUTBOX_ROW_ID_HEADER',
      'PostgresErrorCodes',
      'postgresIdempotentRepository',
      'postgresInbox',
      'postgresOutbox',
      'transactionClient',
    ])
  })

  it('uses DROMEDARY_ERR_PG_ codes, none of them twice', () => {
    const codes = Object.values(api.PostgresErrorCodes)
    expect(codes.every((c) => c.startsWith('DROMEDARY_ERR_PG_'))).toBe(true)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('imports node-postgres in one file only', async () => {
    const { readdir } = await import('node:fs/promises')
    const dir = new URL('../src/', import.meta.url)
    const importers: string[] = []
    for (const f of await readdir(dir))
      if (/from 'pg'/.test(await readFile(new URL(f, dir), 'utf8'))) importers.push(f)
    expect(importers).toEqual(['pg.ts'])
  })
})
