// The PostgreSQL side of the exactly-once scenarios: node-postgres (the build @dromedary/postgres uses),
// unique table names, and effects counted in the database.
import { createRequire } from 'node:module'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

let pool
/** One pool for the runner, on node-postgres resolved from packages/postgres (pnpm does not hoist it). */
export function pgPool() {
  if (pool === undefined) {
    const require = createRequire(new URL('../../../packages/postgres/package.json', import.meta.url))
    const pg = require('pg')
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 })
    pool.on('error', () => undefined)
  }
  return pool
}

/** A table name no other run uses. */
export function uniqueTable(what) {
  return `dromedary_rel_${what}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
}

/** Creates the effects table the inbox worker writes one row per applied message to. */
export async function createEffects(table) {
  await pgPool().query(`CREATE TABLE "${table}" (message_id text NOT NULL)`)
}

/** Every applied effect's message id, once per time it was applied. */
export async function effectIds(table) {
  const { rows } = await pgPool().query(`SELECT message_id FROM "${table}"`)
  return rows.map((r) => r.message_id)
}

export async function dropTables(tables) {
  for (const t of tables) await pgPool().query(`DROP TABLE IF EXISTS "${t}"`)
}

/**
 * The worker parameters and accounting of a scenario run with or without the transactional inbox. With it,
 * `processed` are the effects counted in PostgreSQL (what the exactly-once guarantee is about); without it,
 * the workers' ledgers.
 */
export function inboxVariant(inbox) {
  const tables = []
  return {
    inbox,
    async workerParams(trial) {
      if (!inbox) return {}
      const effects = uniqueTable(`effects_${trial}`)
      const inboxTable = uniqueTable(`inbox_${trial}`)
      tables.push(effects, inboxTable)
      await createEffects(effects)
      return { fixture: 'amqp-inbox-worker.mjs', databaseUrl: DATABASE_URL, effects, inbox: inboxTable }
    },
    async processed(workers, processedIds) {
      if (!inbox) return processedIds(workers)
      return effectIds(workers[0].params.effects)
    },
    async cleanup() {
      await dropTables(tables.splice(0))
    },
  }
}
