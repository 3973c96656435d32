/**
 * A 2025-11-25 CreateTaskResult inside a tools/call result (see {@link TASK_ANSWER_META}): wrapped by the
 * tool-call pipeline's task stage, lifted out by the 2025-era session transport right before the wire.
 */
import { TASK_ANSWER_META } from './meta-keys.js';

/** `{task}` as a result the SDK's tools/call validation accepts. */
export function wrapTaskAnswer(answer: { task: Record<string, unknown> }): Record<string, unknown> {
  return { content: [], _meta: { [TASK_ANSWER_META]: answer } };
}

/** The CreateTaskResult a result carries, or undefined. */
export function taskAnswerOf(result: unknown): Record<string, unknown> | undefined {
  const meta = (result as { _meta?: Record<string, unknown> } | undefined)?._meta;
  const answer = meta?.[TASK_ANSWER_META];
  return answer && typeof answer === 'object' ? (answer as Record<string, unknown>) : undefined;
}
