/**
 * Conformance fixtures that talk back to the client: sampling, elicitation (SEP-1034 defaults,
 * SEP-1330 enums), logging, progress, capability checks, SSE reconnection, list-change triggers.
 *
 * Every client round trip is written once as a Multi Round-Trip handler (`inputRequired`): on
 * 2026-07-28 the client fulfils it and retries; on 2025-era sessions the SDK's legacy shim turns it
 * into real server-to-client requests. No handler keeps state between rounds. The SDK refuses an
 * input request whose client capability was not declared (-32021), so handlers do not check it.
 */
import { inputRequired, inputResponse, type ClientCapabilities, type ElicitRequestFormParams, type ServerContext } from '@modelcontextprotocol/server';
import type { ToolsetServer } from '../surface.js';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { ToolsetContext } from '../types.js';
import { CLIENT_CAPABILITIES_META } from '../../protocol/meta-keys.js';

const noArgs = z.object({});
const PromptArg = z.object({ prompt: z.string() });
const MessageArg = z.object({ message: z.string() });
type Schema = ElicitRequestFormParams['requestedSchema'];

/** The client's declared capabilities: the request envelope (2026) or the session's initialize (2025). */
export function clientCapabilities(server: ToolsetServer, ctx: ServerContext): ClientCapabilities {
  // The request's own declaration first (the 2026-07-28 envelope; a gateway forwards its caller's in
  // `_meta` to a 2025-era upstream, whose session capabilities are the gateway's), else the session's.
  const key = CLIENT_CAPABILITIES_META;
  const own = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[key] ?? (ctx.mcpReq._meta as Record<string, unknown> | undefined)?.[key];
  return own !== null && typeof own === 'object' ? (own as ClientCapabilities) : (server.server.getClientCapabilities() ?? {});
}

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

function samplingText(ctx: ServerContext, key: string): string | undefined {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  if (view.kind !== 'sampling') return undefined;
  const blocks = Array.isArray(view.result.content) ? view.result.content : [view.result.content];
  return blocks.map((b) => (b.type === 'text' ? b.text : `[${b.type}]`)).join('');
}

/** Elicits `schema` under `key`, or reports the answer once the client has given it. */
function elicitOrReport(ctx: ServerContext, key: string, message: string, requestedSchema: Schema) {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  if (view.kind !== 'elicit') {
    return inputRequired({ inputRequests: { [key]: inputRequired.elicit({ message, requestedSchema }) } });
  }
  return text(`Elicitation completed: action=${view.action}, content=${JSON.stringify(view.content ?? {})}`);
}

const SEP1034_SCHEMA: Schema = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Full name', default: 'John Doe' },
    age: { type: 'integer', description: 'Age in years', default: 30 },
    score: { type: 'number', description: 'Score', default: 95.5 },
    status: { type: 'string', description: 'Status', enum: ['active', 'inactive', 'pending'], default: 'active' },
    verified: { type: 'boolean', description: 'Verified', default: true },
  },
};

const SEP1330_SCHEMA = {
  type: 'object',
  properties: {
    untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
    titledSingle: {
      type: 'string',
      oneOf: [
        { const: 'value1', title: 'First Option' },
        { const: 'value2', title: 'Second Option' },
        { const: 'value3', title: 'Third Option' },
      ],
    },
    legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
    untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
    titledMulti: {
      type: 'array',
      items: {
        anyOf: [
          { const: 'value1', title: 'First Choice' },
          { const: 'value2', title: 'Second Choice' },
          { const: 'value3', title: 'Third Choice' },
        ],
      },
    },
  },
} as unknown as Schema;

/** Registers the interactive fixtures. */
export function registerInteractiveTools(server: ToolsetServer, { notify }: ToolsetContext): void {
  server.registerTool('test_sampling', { description: 'Asks the client LLM to answer a prompt.', inputSchema: PromptArg }, async ({ prompt }, ctx) => {
    const answer = samplingText(ctx, 'sample');
    if (answer === undefined) {
      return inputRequired({
        inputRequests: {
          sample: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }),
        },
      });
    }
    return text(`LLM response: ${answer}`);
  });

  server.registerTool('test_elicitation', { description: 'Asks the user for a username and email.', inputSchema: MessageArg }, async ({ message }, ctx) =>
    elicitOrReport(ctx, 'user_info', message, {
      type: 'object',
      properties: {
        username: { type: 'string', description: "User's response" },
        email: { type: 'string', description: "User's email address" },
      },
      required: ['username', 'email'],
    }),
  );
  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicits one field of each primitive type, each with a default (SEP-1034).', inputSchema: noArgs },
    async (_args, ctx) => elicitOrReport(ctx, 'defaults', 'Please review the defaults', SEP1034_SCHEMA),
  );
  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicits the five enum schema variants (SEP-1330).', inputSchema: noArgs },
    async (_args, ctx) => elicitOrReport(ctx, 'enums', 'Please pick options', SEP1330_SCHEMA),
  );
  server.registerTool(
    'test_streaming_elicitation',
    { description: 'Reports progress, then asks the user a question through input_required.', inputSchema: noArgs },
    async (_args, ctx) => elicitOrReport(ctx, 'answer', 'Continue?', { type: 'object', properties: { ok: { type: 'boolean' } } }),
  );
  server.registerTool(
    'test_missing_capability',
    { description: 'Needs the client sampling capability; refuses with -32021 without it.', inputSchema: noArgs },
    async (_args, ctx) => {
      const answer = samplingText(ctx, 'probe');
      if (answer !== undefined) return text(`sampled: ${answer}`);
      return inputRequired({
        inputRequests: {
          probe: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 20 }),
        },
      });
    },
  );

  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three info log messages about 50 ms apart.', inputSchema: noArgs },
    async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'Tool execution started');
      await delay(50);
      await ctx.mcpReq.log('info', 'Tool processing data');
      await delay(50);
      await ctx.mcpReq.log('info', 'Tool execution completed');
      return text('Logging test completed');
    },
  );
  server.registerTool(
    'test_logging_tool',
    { description: 'Logs one info message (only delivered when the client asked for a log level).', inputSchema: noArgs },
    async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'test_logging_tool ran');
      return text('logged');
    },
  );
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50, 100 of 100, about 50 ms apart.', inputSchema: noArgs },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const [i, progress] of [0, 50, 100].entries()) {
        if (i > 0) await delay(50);
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
        }
      }
      return text('Progress test completed');
    },
  );
  server.registerTool(
    'test_reconnection',
    { description: 'Closes its SSE stream mid-call (when resumable) and finishes afterwards (SEP-1699).', inputSchema: noArgs },
    async (_args, ctx) => {
      await delay(50);
      ctx.http?.closeSSE?.();
      await delay(200);
      return text('Reconnection test completed');
    },
  );

  server.registerTool(
    'test_trigger_tool_change',
    { description: "Publishes notifications/tools/list_changed to this tenant's listeners.", inputSchema: noArgs },
    async () => {
      notify.toolsChanged();
      return text('tools list change published');
    },
  );
  server.registerTool(
    'test_trigger_prompt_change',
    { description: "Publishes notifications/prompts/list_changed to this tenant's listeners.", inputSchema: noArgs },
    async () => {
      notify.promptsChanged();
      return text('prompts list change published');
    },
  );
}
