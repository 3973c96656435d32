/**
 * Traces across the task queue (docs/tracing.md), per the OpenTelemetry messaging conventions: the
 * gateway's `send umcp-tasks` PRODUCER span around the enqueue puts its W3C trace context on the job
 * (`TaskJobData.trace`, so all three backends carry it in the same job body), and the worker's
 * `process umcp-tasks` CONSUMER span is that producer's child and links it: a task's run joins the
 * trace of the call that created it. Nothing with tracing off.
 */
import { SpanKind, type Attributes } from '@opentelemetry/api';
import { QUEUE } from '../../../contract/index.js';
import { ATTR, contextOf, currentCarrier, inSpan, linkTo, tracingEnabled, type TraceCarrier } from '../log/tracing.js';
import type { TaskQueueBackend } from './task-queue.js';

/** `messaging.system` per backend (BullMQ has no registered value; its name is used). */
const SYSTEM: Record<TaskQueueBackend, string> = { bullmq: 'bullmq', rabbitmq: 'rabbitmq', sqs: 'aws_sqs' };

function attributes(backend: TaskQueueBackend, operation: 'send' | 'process', taskId: string, tenantId: string): Attributes {
  return {
    [ATTR.MESSAGING_SYSTEM]: SYSTEM[backend],
    [ATTR.MESSAGING_OPERATION_TYPE]: operation,
    [ATTR.MESSAGING_OPERATION_NAME]: operation,
    [ATTR.MESSAGING_DESTINATION_NAME]: QUEUE.name,
    [ATTR.MESSAGING_MESSAGE_ID]: taskId,
    [ATTR.TASK_ID]: taskId,
    [ATTR.TENANT_ID]: tenantId,
  };
}

/** Runs `enqueue` in the producer span; it gets the trace context the job should carry (undefined with tracing off). */
export function inProducerSpan(
  backend: TaskQueueBackend,
  task: { id: string; tenantId: string },
  enqueue: (trace: TraceCarrier | undefined) => Promise<void>,
): Promise<void> {
  if (!tracingEnabled()) return enqueue(undefined);
  return inSpan(`send ${QUEUE.name}`, { kind: SpanKind.PRODUCER, attributes: attributes(backend, 'send', task.id, task.tenantId) }, () =>
    enqueue(currentCarrier()),
  );
}

/** Runs one delivery in the consumer span, a child of (and linked to) the producer the job names. */
export function inConsumerSpan<T>(
  backend: TaskQueueBackend,
  job: { taskId: string; tenantId: string; trace?: TraceCarrier },
  attempt: number,
  run: () => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return run();
  const producer = contextOf(job.trace);
  return inSpan(
    `process ${QUEUE.name}`,
    {
      kind: SpanKind.CONSUMER,
      parent: producer,
      links: linkTo(producer),
      attributes: { ...attributes(backend, 'process', job.taskId, job.tenantId), [ATTR.TASK_ATTEMPT]: attempt },
    },
    run,
  );
}
