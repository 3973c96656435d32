/** The regional task queue when it is not BullMQ on the state Redis (`queue.backend`): SQS or Amazon MQ for RabbitMQ. */
export { SqsTaskQueue, type SqsTaskQueueArgs } from './sqs.js';
export { RabbitBroker, type RabbitBrokerArgs } from './rabbitmq.js';
