/**
 * Pins the Redis cost of each kind of 2025-era request through a real gateway (startGateway, production
 * tenant factory, federation, a 2025-era upstream fixture): the round trips and commands under the test's
 * key prefix from the moment the request is sent until the gateway is quiet again (the response read to its
 * end, background work such as the TTL slide and lease release included). A change that adds a round trip
 * fails here; docs/legacy-sessions.md ("Redis round trips per request") lists the counts and why each is
 * needed. Steady state: each kind is measured on its second request, after the catalog and the upstream
 * connection are warm.
 */
import assert from 'node:assert/strict';
import { countRedisRoundTrips, type RedisRoundTripCounter } from '../../../support/redis-round-trips.js';
import { startCluster, type Cluster } from '../../federation/support/gateway.js';
import { startLegacyUpstream, type UpstreamFixture } from '../../federation/support/upstream-fixtures.js';
import { parseSse, type Message } from '../support/rpc.js';

const VERSION = '2025-11-25';

/** Expected round trips (and commands) per request kind, steady state. */
const EXPECTED: Record<string, { roundTrips: number; commands: number }> = {
  // The record written (HSET, PEXPIRE, ZADD in one MULTI); the instance stays pooled on this replica.
  initialize: { roundTrips: 1, commands: 3 },
  // The session loaded and slid (one Lua script); nothing else.
  'notifications/initialized': { roundTrips: 1, commands: 1 },
  // Load + slide; the stream's setup with the call record (one pipeline); the final append with the lease
  // release and call record removal behind it.
  'tools/list': { roundTrips: 3, commands: 11 },
  'tools/call diagnostics.echo': { roundTrips: 3, commands: 11 },
  'tools/call federated (2025-era upstream)': { roundTrips: 3, commands: 11 },
  // Load + slide; SUBSCRIBE with the log checks (EXISTS, oldest entry); the read; UNSUBSCRIBE at the end.
  'GET resume (Last-Event-ID)': { roundTrips: 4, commands: 6 },
};

/** Resolves once no counted command was issued for `quietMs`. */
async function quiet(counter: RedisRoundTripCounter, quietMs = 150): Promise<void> {
  let seen = -1;
  while (seen !== counter.commands.length) {
    seen = counter.commands.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

describe('legacy sessions: Redis round trips per request', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let upstream: UpstreamFixture;
  let apiKey: string;
  let counter: RedisRoundTripCounter;
  let url: string;
  let sid: string;
  let nextId = 1;
  const measured: Record<string, { roundTrips: number; commands: number; detail: string }> = {};

  before(async () => {
    [cluster, upstream] = await Promise.all([startCluster(1), startLegacyUpstream('l')]);
    ({ apiKey } = await cluster.tenant('rt', ['diagnostics']));
    assert.equal((await cluster.admin('POST', '/tenants/rt/upstreams', { name: 'up', url: upstream.url })).status, 201);
    url = cluster.gateways[0]!.mcpUrl;
    counter = countRedisRoundTrips(cluster.prefix);
  });
  after(async () => {
    counter?.stop();
    const rows = Object.entries(measured).map(([k, v]) => `${k}: ${v.detail}`);
    if (process.env.ROUND_TRIPS_VERBOSE) console.log(rows.join('\n'));
    await cluster?.stop();
    await upstream?.close();
  });

  const headers = (extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${apiKey}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': VERSION } : {}),
    ...extra,
  });

  async function post(body: unknown): Promise<{ res: Response; messages: Message[]; text: string }> {
    const res = await fetch(url, { method: 'POST', headers: headers(), body: JSON.stringify(body) });
    const text = await res.text();
    const messages = res.headers.get('content-type')?.includes('text/event-stream') ? parseSse(text) : text ? [JSON.parse(text) as Message] : [];
    return { res, messages, text };
  }

  /** Runs `send` twice (warm-up, then measured) and records the second run's counts. */
  async function measure<T>(kind: string, send: () => Promise<T>): Promise<T> {
    await send();
    await quiet(counter);
    counter.reset();
    const out = await send();
    await quiet(counter);
    measured[kind] = { roundTrips: counter.roundTrips, commands: counter.commands.length, detail: counter.describe() };
    return out;
  }

  const initBody = () => ({
    jsonrpc: '2.0',
    id: nextId++,
    method: 'initialize',
    params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 'rt', version: '1' } },
  });

  it('counts every kind of request', async () => {
    await measure('initialize', async () => {
      sid = '';
      const { res } = await post(initBody());
      assert.equal(res.status, 200);
      sid = res.headers.get('mcp-session-id')!;
    });
    await measure('notifications/initialized', async () => assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).res.status, 202));
    await measure('tools/list', async () => {
      const { messages } = await post({ jsonrpc: '2.0', id: nextId++, method: 'tools/list' });
      assert.ok((messages.at(-1)?.result?.tools as unknown[]).length > 0);
    });
    const echo = await measure('tools/call diagnostics.echo', async () => {
      const r = await post({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'diagnostics.echo', arguments: { message: 'hi' } } });
      assert.ok(r.messages.at(-1)?.result, r.text);
      return r;
    });
    await measure('tools/call federated (2025-era upstream)', async () => {
      const r = await post({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'up__echo', arguments: { text: 'x' } } });
      assert.match(JSON.stringify(r.messages.at(-1)?.result), /l:x/, r.text);
    });
    const priming = /id: (\S+)/.exec(echo.text)?.[1];
    assert.ok(priming, 'the echo stream has a priming event id');
    await measure('GET resume (Last-Event-ID)', async () => {
      const res = await fetch(url, { headers: { ...headers(), 'last-event-id': priming } });
      assert.equal(res.status, 200);
      assert.ok(parseSse(await res.text()).at(-1)?.result);
    });

    const table = Object.entries(measured).map(([k, v]) => `${k}: ${v.roundTrips} round trips, ${v.commands} commands`);
    const details = Object.entries(measured)
      .map(([k, v]) => `${k}: ${v.detail}`)
      .join('\n');
    for (const [kind, want] of Object.entries(EXPECTED)) {
      const got = measured[kind]!;
      assert.deepEqual({ roundTrips: got.roundTrips, commands: got.commands }, want, `${kind}\n${table.join('\n')}\n\n${details}`);
    }
  });
});
