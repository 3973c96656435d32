/**
 * `diagnostics`: tools for operators checking a path through proxies and load balancers (buffering,
 * idle timeouts, streaming, error propagation). None of them touches tenant data.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { Toolset } from './types.js';

/** Longest `diagnostics.sleep`, in milliseconds. */
export const MAX_SLEEP_MS = 60_000;

// Schemas are built once per process; every request registers the same objects.
const EchoInput = z.object({ text: z.string().max(100_000).describe('Text to echo back') });
const SleepInput = z.object({ ms: z.number().int().min(0).max(MAX_SLEEP_MS).describe('Milliseconds to wait') });
const StreamInput = z.object({
  count: z.number().int().min(1).max(1000).describe('Number of progress notifications'),
  intervalMs: z.number().int().min(0).max(10_000).describe('Milliseconds between notifications'),
});
const StreamOutput = z.object({ count: z.number().int() });
const FailInput = z.object({ message: z.string().max(10_000).describe('Error message to return') });

/** The `diagnostics` toolset: `diagnostics.echo`, `.sleep`, `.stream`, `.fail`. */
export const diagnosticsToolset: Toolset = {
  name: 'diagnostics',
  description: 'Echo, sleep, progress streaming and error round trips for checking the network path.',
  capabilities: { tools: { listChanged: true } },
  register(server) {
    server.registerTool(
      'diagnostics.echo',
      {
        description: 'Returns the given text unchanged.',
        inputSchema: EchoInput,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );

    server.registerTool(
      'diagnostics.sleep',
      {
        description: `Waits the given number of milliseconds (at most ${MAX_SLEEP_MS}), then returns. Cancellable.`,
        inputSchema: SleepInput,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async ({ ms }, ctx) => {
        // Rejects with an AbortError when the client cancels (notifications/cancelled or disconnect).
        await delay(ms, undefined, { signal: ctx.mcpReq.signal });
        return { content: [{ type: 'text', text: `slept ${ms} ms` }], structuredContent: { ms } };
      },
    );

    server.registerTool(
      'diagnostics.stream',
      {
        description: 'Sends `count` progress notifications `intervalMs` apart, then returns {count}. Requires a progressToken in _meta.',
        inputSchema: StreamInput,
        outputSchema: StreamOutput,
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      async ({ count, intervalMs }, ctx) => {
        const progressToken = ctx.mcpReq._meta?.progressToken;
        if (progressToken === undefined) {
          throw new ProtocolError(
            ProtocolErrorCode.InvalidParams,
            'diagnostics.stream needs a progress token: send params._meta.progressToken with the tools/call request',
          );
        }
        for (let i = 1; i <= count; i++) {
          if (i > 1 && intervalMs > 0) await delay(intervalMs, undefined, { signal: ctx.mcpReq.signal });
          ctx.mcpReq.signal.throwIfAborted();
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress: i, total: count, message: `event ${i} of ${count}` },
          });
        }
        return { content: [{ type: 'text', text: JSON.stringify({ count }) }], structuredContent: { count } };
      },
    );

    server.registerTool(
      'diagnostics.fail',
      {
        description: 'Returns a tool error (isError: true) carrying the given message.',
        inputSchema: FailInput,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async ({ message }) => ({ isError: true, content: [{ type: 'text', text: message }] }),
    );
  },
};
