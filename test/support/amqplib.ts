/**
 * amqplib as @dromedary/amqp loads it (the root project does not depend on it), through `require`: a suite
 * that enables the amqplib auto-instrumentation imports this before @dromedary/amqp, so the one copy both
 * use is loaded patched.
 */
import { createRequire } from 'node:module'

interface AmqplibConnection {
  createChannel(): Promise<{ deleteQueue(queue: string): Promise<unknown>; close(): Promise<void> }>
  close(): Promise<void>
}

const requireFromAmqp = createRequire(new URL('../../packages/amqp/package.json', import.meta.url))

export const amqplib = requireFromAmqp('amqplib') as { connect(url: string): Promise<AmqplibConnection> }
