/**
 * Multi Round-Trip state survives the tool-call pipeline: the instance's `tools/call` is the pipeline's,
 * which delegates a built-in tool to the SDK's own handler of `McpServer` after the SDK ran the
 * requestState hook. The hook only checks (and leaves the raw string in place); handlers decode with
 * ToolsetContext.requestState.read. Driven in-process through the SDK's createMcpHandler.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createMcpHandler } from '@modelcontextprotocol/server';
import pino from 'pino';
import type { Principal } from '../../../service/src/domain/principal.js';
import { RequestStateKeysSchema } from '../../../service/src/mcp/config.js';
import { RotatingRequestStateCodec, bindToCaller } from '../../../service/src/mcp/request-state.js';
import { authInfoFor, createTenantServerFactory, principalOf } from '../../../service/src/mcp/server-factory.js';
import { modernBody, modernHeaders, messagesOf } from './support/rpc.js';

const principal: Principal = { tenantId: 't-1', tenantName: 'acme', subject: 'key:1', kind: 'api-key', toolsets: ['conformance'], scopes: [] };

describe('requestState through the tool-call pipeline', () => {
  const codec = new RotatingRequestStateCodec(RequestStateKeysSchema.parse(`k1:${randomBytes(32).toString('base64')}`), 60, bindToCaller);
  const factory = createTenantServerFactory({
    config: { LIST_CACHE_TTL_MS: 0 },
    audit: { record: async () => undefined, list: async () => [] },
    logger: pino({ level: 'silent' }),
    deployment: { region: 'test', version: '0', health: async () => ({}) },
    notifierFor: () => ({ toolsChanged() {}, promptsChanged() {}, resourcesChanged() {}, resourceUpdated() {} }),
    requestState: codec,
  });
  const handler = createMcpHandler((ctx) => factory(principalOf(ctx.authInfo)!, { era: ctx.era }), { legacy: 'reject' });
  after(() => handler.close());

  const callTool = async (params: Record<string, unknown>) => {
    const body = modernBody('tools/call', params);
    const res = await handler.fetch(
      new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: modernHeaders(undefined, 'tools/call', params.name as string),
        body: JSON.stringify(body),
      }),
      { authInfo: authInfoFor(principal) },
    );
    return (await messagesOf(res)).find((m) => m.id === body.id)!;
  };

  it('completes a sealed-state round and still refuses tampered state', async () => {
    const tool = { name: 'test_input_required_result_request_state', arguments: {} };
    const first = await callTool(tool);
    const state = first.result?.requestState as string;
    assert.equal(first.result?.resultType, 'input_required');
    const answer = { confirm: { action: 'accept', content: { ok: true } } };

    const second = await callTool({ ...tool, inputResponses: answer, requestState: state });
    assert.match(second.result?.content?.[0]?.text ?? '', /state-ok/, JSON.stringify(second));

    const tampered = await callTool({ ...tool, inputResponses: answer, requestState: `${state}x` });
    assert.equal(tampered.error?.code, -32602);
  });
});
