/**
 * Conformance fixtures of the tasks extension scenarios (`tasks-*`, SEP-2663). They are plain tools:
 * whether a call becomes a task is decided by the task layer (service/src/tasks/policy.ts lists them as
 * task-capable), and the worker runs them like any other tool.
 */
import { acceptedContent, inputRequired, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { ToolsetServer } from '../surface.js';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
const confirmSchema = { type: 'object' as const, properties: { confirm: { type: 'boolean' as const } }, required: ['confirm'] };
const nameSchema = { type: 'object' as const, properties: { name: { type: 'string' as const } }, required: ['name'] };
const NameAnswer = z.object({ name: z.string() });

/** Registers greet, slow_compute, failing_job, protocol_error_job, confirm_delete, multi_input, test_tool_with_task. */
export function registerTaskTools(server: ToolsetServer): void {
  server.registerTool('greet', { description: 'Sync-only: returns Hello, {name}!', inputSchema: z.object({ name: z.string().max(1_000) }) }, async ({ name }) =>
    text(`Hello, ${name}!`),
  );

  server.registerTool(
    'slow_compute',
    {
      description: 'Task-capable: sleeps `seconds` seconds, then returns a result. Cancellable.',
      inputSchema: z.object({ seconds: z.number().min(0).max(600), label: z.string().max(200).optional() }),
    },
    async ({ seconds, label }, ctx) => {
      await delay(seconds * 1_000, undefined, { signal: ctx.mcpReq.signal });
      return text(`computed ${label ?? 'result'} after ${seconds}s`);
    },
  );

  server.registerTool('failing_job', { description: 'Task-only: returns a tool execution error after ~1 s.', inputSchema: z.object({}) }, async (_a, ctx) => {
    await delay(1_000, undefined, { signal: ctx.mcpReq.signal });
    return { isError: true, content: [{ type: 'text' as const, text: 'failing_job failed on purpose' }] };
  });

  server.registerTool(
    'protocol_error_job',
    { description: 'Task-capable: fails with a protocol-level (JSON-RPC) error.', inputSchema: z.object({}) },
    async () => {
      throw new ProtocolError(ProtocolErrorCode.InternalError, 'protocol_error_job raised an internal error on purpose');
    },
  );

  server.registerTool(
    'confirm_delete',
    { description: 'Task-capable: asks the client to confirm (elicitation), then reports.', inputSchema: z.object({ filename: z.string().max(1_000) }) },
    async ({ filename }, ctx) => {
      const answer = await ctx.mcpReq.elicitInput({ mode: 'form', message: `Delete ${filename}?`, requestedSchema: confirmSchema });
      const confirmed = answer.action === 'accept' && answer.content?.['confirm'] === true;
      return text(confirmed ? `deleted ${filename}` : `kept ${filename}`);
    },
  );

  server.registerTool('multi_input', { description: 'Task-capable: asks two questions in parallel.', inputSchema: z.object({}) }, async (_a, ctx) => {
    const ask = (message: string) => ctx.mcpReq.elicitInput({ mode: 'form', message, requestedSchema: nameSchema });
    const [a, b] = await Promise.all([ask('First name?'), ask('Second name?')]);
    return text(`got ${JSON.stringify(a.content ?? {})} and ${JSON.stringify(b.content ?? {})}`);
  });

  server.registerTool(
    'test_tool_with_task',
    { description: 'Task-only: gathers user_name with input_required, then runs as a task greeting that user.', inputSchema: z.object({}) },
    async (_a, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', NameAnswer);
      if (!answer) return inputRequired({ inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: nameSchema }) } });
      return text(`Hello, ${answer.name}! (task)`);
    },
  );
}
