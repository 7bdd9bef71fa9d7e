import { isReservedHeader, UNSAFE_FORWARD_HEADERS } from '@dromedary/core'
import { errors } from './errors.js'
import { baseName } from './sql.js'

/** Header with the outbox message id: set by the outbox producer, and on every exchange the relay publishes. */
export const OUTBOX_MESSAGE_ID_HEADER = 'dromedary.outbox.messageId'
/** Header with the outbox row id (a string of the `bigserial`) on the exchanges the relay publishes. */
export const OUTBOX_ROW_ID_HEADER = 'dromedary.outbox.rowId'

/** How a body is stored, so the relay hands the destination the same kind of body the block had. */
type BodyKind = 'json' | 'text' | 'bytes' | 'empty'

/** An outbox row as the relay reads it. @internal */
export interface OutboxRow {
  id: string
  message_id: string
  body: Buffer
  body_kind: BodyKind
  headers: Record<string, unknown>
}

/** The outbox table; `channel` is what LISTEN/NOTIFY use. @internal */
export function outboxDdl(table: string, raw: string): string[] {
  const base = baseName(raw)
  return [
    `CREATE TABLE IF NOT EXISTS ${table} (
      id bigserial PRIMARY KEY,
      message_id text NOT NULL UNIQUE,
      body bytea NOT NULL,
      body_kind text NOT NULL,
      headers json NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz
    )`,
    `CREATE INDEX IF NOT EXISTS "${base}_unsent" ON ${table} (id) WHERE sent_at IS NULL`,
  ]
}

/** The body and headers of an exchange as outbox columns; throws DROMEDARY_ERR_PG_OUTBOX_ENCODE. @internal */
export function encodeMessage(
  raw: string,
  body: unknown,
  headers: Record<string, unknown>,
): { body: Buffer; kind: BodyKind; headers: string } {
  let content: Buffer
  let kind: BodyKind
  if (body instanceof Uint8Array) {
    content = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    kind = 'bytes'
  } else if (typeof body === 'string') {
    content = Buffer.from(body, 'utf8')
    kind = 'text'
  } else if (body === undefined) {
    content = Buffer.alloc(0)
    kind = 'empty'
  } else {
    const json = stringify(raw, body, 'body')
    content = Buffer.from(json, 'utf8')
    kind = 'json'
  }
  // Headers a transport or Dromedary set (amqp.*, dromedary.*) describe where the message came from, and
  // credentials (authorization, cookie) have no business in a table.
  const kept: Record<string, unknown> = {}
  for (const name of Object.keys(headers)) {
    if (isReservedHeader(name) || UNSAFE_FORWARD_HEADERS.has(name.toLowerCase())) continue
    kept[name] = headers[name]
  }
  return { body: content, kind, headers: stringify(raw, kept, 'headers') }
}

function stringify(raw: string, value: unknown, what: string): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    throw errors.outboxEncode(raw, err)
  }
  if (json === undefined) throw errors.outboxEncode(raw, new TypeError(`the ${what} has no JSON form`))
  return json
}

/** The body of a stored row. @internal */
export function decodeBody(row: OutboxRow): unknown {
  switch (row.body_kind) {
    case 'bytes':
      return row.body
    case 'text':
      return row.body.toString('utf8')
    case 'empty':
      return undefined
    case 'json':
      return JSON.parse(row.body.toString('utf8'))
  }
}
