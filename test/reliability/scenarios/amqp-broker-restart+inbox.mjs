// amqp-broker-restart with the transactional inbox: the shared RabbitMQ application is stopped and started
// again mid-stream (and always restarted, even on failure), effects applied in PostgreSQL with the message
// id. Holds when nothing is lost and no effect is applied twice.
import { amqpBrokerRestart } from './amqp-broker-restart.mjs'

export default amqpBrokerRestart(true)
