/**
 * A small tenant-aware McpServer factory for the legacy-leg tests (B1's production factory is tested with
 * the endpoint): echo, whoami (reads authInfo.extra.principal), a progress `stream`, sampling, elicitation
 * (also as an input_required handler, `elicit_mrtr`),
 * roots, a long `sleep`, logging, standalone notifications (`notify`) and a subscribable resource.
 */
import { acceptedContent, inputRequired, McpServer, type McpServerFactory } from '@modelcontextprotocol/server';
import { nameInputKeys } from '../../../../../service/src/mcp/input-keys.js';
import { recordHandlers } from '../../../../../service/src/mcp/pipeline/server-handlers.js';
import { z } from 'zod';
import type { Principal } from '../../../../../service/src/domain/principal.js';

/** Builds one server instance per exchange, like the production factory. */
export const testFactory: McpServerFactory = ({ authInfo }) => {
  const server = new McpServer({ name: 'legacy-test', version: '1.0.0' }, { capabilities: { logging: {}, resources: { subscribe: true } } });
  // As the production factory does: questions of input_required handlers go out named (mcp/input-keys.ts).
  const handlers = recordHandlers(server);
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('whoami', { inputSchema: z.object({}) }, async () => {
    const principal = (authInfo?.extra as { principal?: Principal } | undefined)?.principal;
    return { content: [{ type: 'text', text: `${principal?.tenantName}/${principal?.subject}` }] };
  });
  server.registerTool(
    'stream',
    { inputSchema: z.object({ count: z.number().int().min(1).max(1000), intervalMs: z.number().int().min(0).max(10_000) }) },
    async ({ count, intervalMs }, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (let i = 1; i <= count; i++) {
        await new Promise((r) => setTimeout(r, intervalMs));
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: i, total: count } });
        }
      }
      return { content: [{ type: 'text', text: JSON.stringify({ count }) }] };
    },
  );
  server.registerTool('sleep', { inputSchema: z.object({ ms: z.number().int().min(0).max(60_000) }) }, async ({ ms }, ctx) => {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      ctx.mcpReq.signal.addEventListener('abort', () => (clearTimeout(t), resolve()));
    });
    return { content: [{ type: 'text', text: ctx.mcpReq.signal.aborted ? 'cancelled' : 'slept' }] };
  });
  server.registerTool('sample', { inputSchema: z.object({ prompt: z.string() }) }, async ({ prompt }, ctx) => {
    const res = await ctx.mcpReq.requestSampling({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 10 });
    const content = Array.isArray(res.content) ? res.content[0] : res.content;
    return { content: [{ type: 'text', text: `sampled:${content?.type === 'text' ? content.text : '?'}` }] };
  });
  server.registerTool('elicit', { inputSchema: z.object({}) }, async (_args, ctx) => {
    const res = await ctx.mcpReq.elicitInput({ mode: 'form', message: 'name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } });
    return { content: [{ type: 'text', text: `elicited:${res.action}:${String(res.content?.name)}` }] };
  });
  // Written for 2026-07-28 (input_required); on a 2025-era session the SDK asks with elicitation/create.
  server.registerTool('elicit_mrtr', { inputSchema: z.object({}) }, async (_args, ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'nick', z.object({ name: z.string() }));
    if (!answer)
      return inputRequired({
        inputRequests: { nick: inputRequired.elicit({ message: 'nick?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } }) },
      });
    return { content: [{ type: 'text', text: `nick:${answer.name}` }] };
  });
  server.registerTool('log', { inputSchema: z.object({ level: z.enum(['debug', 'info', 'error']) }) }, async ({ level }, ctx) => {
    await ctx.mcpReq.log(level, `at ${level}`);
    return { content: [{ type: 'text', text: 'logged' }] };
  });
  server.registerTool('notify', { inputSchema: z.object({ times: z.number().int().min(1).max(10) }) }, async ({ times }) => {
    // Raised outside the request's stream: goes to the session's standalone GET stream.
    for (let i = 0; i < times; i++) server.sendToolListChanged();
    return { content: [{ type: 'text', text: 'notified' }] };
  });
  server.registerResource('counter', 'test://counter', {}, async (uri) => ({ contents: [{ uri: uri.href, text: '1' }] }));
  server.server.setRequestHandler('resources/subscribe', async () => ({}));
  server.server.setRequestHandler('resources/unsubscribe', async () => ({}));
  nameInputKeys(handlers);
  return server;
};
