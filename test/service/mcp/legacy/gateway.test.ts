/**
 * The official client (@modelcontextprotocol/client, 2025-era handshake) against two real gateways
 * (startGateway: auth, endpoint routing, the production tenant factory) behind a fetch that spreads requests
 * over both replicas like a load balancer without session affinity: plain calls, a progress stream whose
 * connection breaks mid-call and is resumed by the client itself on the other replica, sampling answered
 * through the other replica, and DELETE ending the session everywhere.
 */
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCluster, type Cluster, type TestTenant } from '../support/cluster.js';

type Route = (input: Request) => 0 | 1;

/** A fetch spreading requests over the replicas by `route`, optionally breaking one SSE response mid-stream. */
function balancer(urls: string[], route: Route, breakAfterProgress?: number): { fetch: typeof fetch; hits: string[] } {
  const hits: string[] = [];
  let broke = false;
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const target = route(req);
    hits.push(`${req.method}${req.headers.get('last-event-id') ? '+resume' : ''}->${target}`);
    const res = await fetch(new Request(urls[target]!, req));
    if (breakAfterProgress === undefined || broke || !res.body || res.headers.get('content-type') !== 'text/event-stream' || req.method !== 'POST') return res;
    broke = true;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let seen = 0;
    let text = '';
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (seen >= breakAfterProgress) {
          // Cut at an event boundary, then fail like a dropped connection.
          await reader.cancel();
          controller.error(new TypeError('network connection lost'));
          return;
        }
        const { done, value } = await reader.read();
        if (done) return controller.close();
        text += decoder.decode(value, { stream: true });
        seen = (text.match(/notifications\/progress/g) ?? []).length;
        controller.enqueue(value);
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
  return { fetch: f as typeof fetch, hits };
}

describe('legacy sessions through two gateways with the official client', function () {
  this.timeout(30_000);
  let cluster: Cluster;
  let tenant: TestTenant;
  let urls: string[];

  before(async () => {
    cluster = await startCluster(2);
    urls = cluster.replicas.map((r) => r.mcpUrl);
    tenant = await cluster.tenant('legacy-gw', ['diagnostics', 'conformance']);
  });
  after(async () => cluster?.stop());

  async function connect(route: Route, breakAfterProgress?: number, capabilities: Record<string, unknown> = {}) {
    const lb = balancer(urls, route, breakAfterProgress);
    const client = new Client({ name: 'legacy-gw-test', version: '1.0.0' }, { capabilities });
    const transport = new StreamableHTTPClientTransport(new URL(urls[0]!), {
      fetch: lb.fetch,
      requestInit: { headers: { authorization: `Bearer ${tenant.key}` } },
      reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 200, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
    });
    await client.connect(transport);
    return { client, transport, hits: lb.hits };
  }

  it('serves every request of one session on alternating replicas', async () => {
    let n = 0;
    const { client, transport, hits } = await connect(() => (n++ % 2) as 0 | 1);
    assert.ok(transport.sessionId);
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'diagnostics.echo'));
    for (let i = 0; i < 4; i++) {
      const r = await client.callTool({ name: 'diagnostics.echo', arguments: { text: `hello ${i}` } });
      assert.deepEqual(r.content, [{ type: 'text', text: `hello ${i}` }]);
    }
    assert.ok(hits.some((h) => h.endsWith('->0')) && hits.some((h) => h.endsWith('->1')), hits.join(' '));
    await client.close();
  });

  it('resumes a broken progress stream on the other replica: every progress once, in order, and the result', async () => {
    // POSTs go to replica 0, GETs (the client's resumption) to replica 1.
    const { client, hits } = await connect((req) => (req.method === 'GET' ? 1 : 0), 3);
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'diagnostics.stream', arguments: { count: 10, intervalMs: 100 } },
      { onprogress: (p) => void progress.push(p.progress) },
    );
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(result.structuredContent, { count: 10 });
    assert.ok(hits.includes('GET+resume->1'), `the client resumed on replica 1: ${hits.join(' ')}`);
    await client.close();
  });

  it('answers a sampling request through the other replica', async () => {
    let n = 0;
    const { client } = await connect(() => (n++ % 2) as 0 | 1, undefined, { sampling: {} });
    client.setRequestHandler('sampling/createMessage', async (request) => {
      const content = request.params.messages[0]?.content as { text?: string };
      return { role: 'assistant', content: { type: 'text', text: `echo:${content.text}` }, model: 'test', stopReason: 'endTurn' };
    });
    const r = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'ping' } });
    assert.match((r.content as { text: string }[])[0]!.text, /echo:ping/);
    await client.close();
  });

  it('ends the session on both replicas with DELETE', async () => {
    const { client, transport } = await connect(() => 1);
    const sid = transport.sessionId!;
    await transport.terminateSession();
    for (const url of urls) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tenant.key}`,
          'mcp-session-id': sid,
          accept: 'application/json, text/event-stream',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      assert.equal(res.status, 404);
    }
    await client.close();
  });
});
