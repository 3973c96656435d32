/**
 * Hostile upstreams: one tenant federates a misbehaving upstream of every kind (support/hostile-upstream.ts,
 * a child process) next to a good one. For each: the caller gets a clear JSON-RPC (or tool) error within
 * the upstream's call timeout, the gateway's memory stays bounded by UPSTREAM_MAX_RESPONSE_BYTES (a
 * ~300 MB answer included), the rest of the tenant's catalog keeps working, and nothing one upstream sends
 * appears in another's results or in another tenant's catalog.
 */
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from '../service/federation/support/gateway.js';
import { MODES, startHostileUpstream, type HostileMode, type HostileUpstream } from '../support/hostile-upstream.js';

const CALL_MS = 3_000;
const CAP = 32 * 1024 * 1024;

/** What a call ended in: its error text (JSON-RPC error or tool error), or undefined for a success. */
async function outcome(client: Client, name: string, text = 'hi'): Promise<{ error?: string; text?: string; ms: number }> {
  const started = Date.now();
  try {
    const r = (await client.callTool({ name, arguments: { text } }, { timeout: 30_000 })) as { isError?: boolean; content?: { text?: string }[] };
    const body = (r.content ?? []).map((c) => c.text ?? '').join('\n');
    return r.isError ? { error: body, ms: Date.now() - started } : { text: body, ms: Date.now() - started };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err), ms: Date.now() - started };
  }
}

describe('hostile upstreams: a misbehaving upstream never takes the gateway or its neighbours down', function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let fixture: HostileUpstream;
  let acme: Client;
  let other: Client;

  before(async () => {
    fixture = await startHostileUpstream();
    cluster = await startCluster(1, { UPSTREAM_MAX_RESPONSE_BYTES: String(CAP) });
    const a = await cluster.tenant('acme');
    const o = await cluster.tenant('other');
    for (const mode of MODES) {
      const r = await cluster.admin('POST', '/tenants/acme/upstreams', {
        name: mode.replace(/-/g, '_'),
        url: fixture.url(mode),
        protocol: 'legacy',
        timeouts: { callMs: CALL_MS, listMs: CALL_MS, connectMs: 2_000 },
      });
      assert.equal(r.status, 201, `register ${mode}: ${JSON.stringify(r.body)}`);
    }
    assert.equal((await cluster.admin('POST', '/tenants/other/upstreams', { name: 'good', url: fixture.url('good'), protocol: 'legacy' })).status, 201);
    acme = await cluster.client(a.apiKey, 'modern');
    other = await cluster.client(o.apiKey, 'modern');
  });
  after(async () => {
    await cluster?.stop();
    await fixture?.stop();
  });

  const ns = (mode: HostileMode) => mode.replace(/-/g, '_');

  it('the catalog keeps every upstream that can be listed, bounded: no oversized listing, no unsafe name, descriptions cut', async () => {
    const tools = (await acme.listTools()).tools;
    const names = tools.map((t) => t.name);
    for (const mode of ['good', 'stall', 'huge', 'malformed', 'wrong-id'] as const) assert.ok(names.includes(`${ns(mode)}__probe`), `${mode} listed`);
    assert.equal(names.filter((n) => n.startsWith('many_tools__')).length, 0, 'an upstream over UPSTREAM_MAX_TOOLS contributes nothing');
    assert.deepEqual(
      names.filter((n) => n.startsWith('bad_names__')),
      ['bad_names__echo'],
      'names with path separators or control characters are left out',
    );
    assert.ok(!names.some((n) => /[\u0000-\u001f/\\]/.test(n)), 'no unsafe name at all');
    const big = tools.filter((t) => t.name.startsWith('big_descriptions__'));
    assert.equal(big.length, 2);
    for (const t of big) {
      assert.ok(Buffer.byteLength(t.description ?? '') <= 64 * 1024, `${t.name}: ${Buffer.byteLength(t.description ?? '')} bytes`);
      assert.match(t.description ?? '', /truncated by the gateway/);
    }
    assert.ok(!names.some((n) => n.startsWith('redirect_')), 'redirected upstreams are not listed');
    const status = (await cluster.admin('GET', '/tenants/acme/upstreams')).body as { upstreams: { name: string }[] };
    assert.equal(status.upstreams.length, MODES.length);
  });

  const calls: [HostileMode, RegExp][] = [
    ['stall', /upstream "stall".*(timeout|timed out)/i],
    ['sse-endless', /upstream "sse_endless".*(timeout|timed out|larger than)/i],
    ['huge-sized', /upstream "huge_sized".*larger than \d+ bytes \(UPSTREAM_MAX_RESPONSE_BYTES\)/],
    ['huge-sse', /upstream "huge_sse".*(larger than \d+ bytes|timeout|timed out)/i],
    ['malformed', /upstream "malformed"/],
    ['wrong-id', /upstream "wrong_id".*(timeout|timed out)/i],
    ['other-results', /upstream "other_results".*(timeout|timed out)/i],
  ];
  for (const [mode, expected] of calls) {
    it(`${mode}: the caller gets a clear error within the call timeout`, async () => {
      const r = await outcome(acme, `${ns(mode)}__probe`);
      assert.ok(r.error, `an error, got ${JSON.stringify(r.text)?.slice(0, 200)}`);
      assert.match(r.error, expected);
      assert.doesNotMatch(r.error, /\n\s+at /, 'no stack trace');
      assert.ok(r.ms < CALL_MS + 5_000, `answered in ${r.ms} ms`);
      const good = await outcome(acme, 'good__echo', mode);
      assert.equal(good.text, `good:${mode}`, 'the rest of the catalog keeps working');
    });
  }

  for (const mode of ['redirect-metadata', 'redirect-private'] as const) {
    it(`${mode}: the redirect is not followed; a clear error`, async () => {
      const r = await outcome(acme, `${ns(mode)}__probe`);
      assert.ok(r.error);
      // The upstream's own Location header is named; the target is never asked (no connection beyond loopback).
      assert.match(r.error, new RegExp(`upstream "${ns(mode)}": .*Redirect to \\S+ not followed`));
      assert.ok(r.ms < CALL_MS, `answered in ${r.ms} ms`);
      const good = await outcome(acme, 'good__echo', mode);
      assert.equal(good.text, `good:${mode}`);
    });
  }

  it('a ~300 MB answer: a clear error, and the gateway RSS grows by the cap, not by the answer', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const r = await outcome(acme, 'huge__probe');
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const stats = await fixture.stats();
    const grewMb = (peak - before) / 1024 / 1024;
    console.log(
      `      300 MB answer: RSS ${Math.round(before / 1048576)} -> peak ${Math.round(peak / 1048576)} MB (+${grewMb.toFixed(0)} MB, cap ${CAP / 1048576} MiB); upstream wrote ${Math.round((stats.bytes.huge ?? 0) / 1048576)} MB before the gateway hung up`,
    );
    assert.ok(r.error);
    assert.match(r.error, /upstream "huge".*larger than 33554432 bytes \(UPSTREAM_MAX_RESPONSE_BYTES\)/);
    assert.ok(grewMb < 4 * (CAP / 1048576) + 64, `RSS grew ${grewMb.toFixed(0)} MB`);
    assert.ok((stats.bytes.huge ?? 0) < 200 * 1024 * 1024, 'the gateway stopped reading long before the end');
  });

  it('nothing leaks: results and lists of one upstream never carry another upstream’s data, nor another tenant’s', async () => {
    const r = await outcome(acme, 'good__echo', 'after');
    assert.equal(r.text, 'good:after');
    const otherTools = (await other.listTools()).tools.map((t) => t.name);
    assert.ok(otherTools.includes('good__echo'));
    assert.ok(!otherTools.some((n) => /^(stall|huge|malformed|wrong_id|other_results|many_tools|bad_names)__/.test(n)), 'the other tenant sees none of them');
    const o = await outcome(other, 'good__echo', 'x');
    assert.equal(o.text, 'good:x');
    for (const mode of ['wrong-id', 'other-results'] as const) {
      const echo = await outcome(acme, `${ns(mode)}__echo`, 'mine');
      assert.equal(echo.text, `${mode}:mine`, `${mode}'s own echo is its own`);
      assert.doesNotMatch(echo.text ?? '', /LEAK/);
    }
  });
});
