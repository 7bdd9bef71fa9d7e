// Where the suite writes its scratch files (processed-id ledgers, app logs).
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const RUN_DIR = join(tmpdir(), `dromedary-reliability-${process.pid}`)
export const LOG_DIR = join(RUN_DIR, 'logs')
