// amqp-connection-drop with the transactional inbox: the same broker-side connection closes, effects applied
// in PostgreSQL with the message id. Holds when nothing is lost and no effect is applied twice.
import { amqpConnectionDrop } from './amqp-connection-drop.mjs'

export default amqpConnectionDrop(true)
