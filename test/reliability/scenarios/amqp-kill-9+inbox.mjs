// amqp-kill-9 with the transactional inbox: the same SIGKILLs, each message's effect applied in PostgreSQL in
// the transaction that records its message id. Holds when nothing is lost and no effect is applied twice.
import { amqpKill9 } from './amqp-kill-9.mjs'

export default amqpKill9(true)
