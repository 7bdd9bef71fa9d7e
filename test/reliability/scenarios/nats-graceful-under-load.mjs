// nats-graceful-under-load: a stream of N messages, an app consuming it (JetStream (durable pull consumer, ack_wait 3 s in the kill scenario); batch 50, 0–3 ms
// of async work each), SIGTERM at a random moment while it is busy; then a second app consumes the rest, as the
// next instance of a deploy would. Both shutdownRunningTask modes. Holds when nothing is lost and nothing is
// processed twice, and every stop was graceful.
import { natsStream } from '../lib/stream-brokers.mjs'
import { gracefulUnderLoad } from '../lib/stream-scenarios.mjs'

export default {
  name: 'nats-graceful-under-load',
  graceful: true,
  run: ({ quick, log }) =>
    gracefulUnderLoad({
      scenario: 'nats-graceful-under-load',
      makeBroker: (what) => natsStream(what),
      quick,
      log,
    }),
}
