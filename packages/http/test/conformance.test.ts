import { describe, expect, it } from 'vitest'
import { describeConsumerConformance } from '@dromedary/core/testing'
import { httpComponent, type HttpComponent } from '@dromedary/http'
import { silentClients } from './silent-clients.js'
import { send } from './support.js'

describeConsumerConformance(
  { describe, it, expect },
  {
    name: 'http',
    // Every accepted request runs at once; what is not finished is answered 503 (the client retries elsewhere).
    capabilities: {
      handsBack: true,
      canSuspend: true,
      concurrency: Number.POSITIVE_INFINITY,
      silentPeer: true,
    },
    setup() {
      let http: HttpComponent | undefined
      const port = () => {
        const p = http?.address?.port
        if (p === undefined) throw new Error('the http component is not listening')
        return p
      }
      const answers: Array<Promise<{ readonly id: string; readonly status: number }>> = []
      const peer = silentClients(port)
      return {
        uri: 'http:/conformance?method=POST',
        components: () => ({ http: (http = httpComponent({ port: 0 })) }),
        feed(_ctx, ids) {
          for (const id of ids) {
            const answer = send(port(), 'POST', '/conformance', {
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ id }),
            })
            // Status 0: the connection closed without an answer (then the request is lost, not returned).
            answers.push(
              answer.then(
                (a) => ({ id, status: a.status }),
                () => ({ id, status: 0 }),
              ),
            )
          }
          return Promise.resolve()
        },
        // A 503 goes back to its client, which may retry; 200 means the route completed it.
        async drainSource() {
          const settled = await Promise.all(answers.splice(0))
          return settled.filter((a) => a.status === 503).map((a) => a.id)
        },
        silentPeer: peer,
        teardown: () => peer.close(),
      }
    },
  },
)
