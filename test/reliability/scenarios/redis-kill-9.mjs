// redis-kill-9: a consumer app (Redis Streams (consumer group, minIdleMs 3 s in the kill scenario)) is killed with SIGKILL at a random moment while it is
// busy, twice per trial, each time restarted; the third instance finishes the stream. Holds when nothing is
// lost; duplicates are expected (the messages in flight at the kill run again) and reported, bounded by
// kills × batch.
import { redisStream } from '../lib/stream-brokers.mjs'
import { kill9 } from '../lib/stream-scenarios.mjs'

export default {
  name: 'redis-kill-9',
  graceful: false,
  run: ({ quick, log }) =>
    kill9({
      scenario: 'redis-kill-9',
      makeBroker: (what) => redisStream(what, { minIdleMs: 3000 }),
      quick,
      log,
    }),
}
