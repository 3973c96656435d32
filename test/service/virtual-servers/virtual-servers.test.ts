/**
 * Virtual servers and tool-level access (issue 20) on two real gateway replicas (PostgreSQL, Redis) with
 * a real 2026-07-28 upstream: the admin API and its validation, `/mcp/<server>` in both protocol eras
 * (2026-07-28 through the SDK client with version negotiation `auto`, 2025-11-25 sessions), globs,
 * excludes, renames and description overrides, scoped keys, sessions bound to their server, changes on
 * one replica seen on the other within 1 s, list_changed only to callers whose view changed, tasks
 * invisible through a view that cannot call their tool, and the RFC 9728 metadata of a virtual server.
 */
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startCluster, type Cluster } from '../federation/support/gateway.js';
import { startModernUpstream, type UpstreamFixture } from '../federation/support/upstream-fixtures.js';
import { legacySession, modernCall, RpcError } from '../tasks/support.js';

/** Resolves with the elapsed ms once `check` passes; fails after `timeoutMs`. */
async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw JSON-RPC POST (2025-era framing when `sid` is given, else a bare 2026-07-28 request). */
async function post(url: string, key: string, body: unknown, sid?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(sid && { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const data = text.startsWith('{')
    ? text
    : (text
        .split('\n')
        .find((l) => l.startsWith('data:'))
        ?.slice(5) ?? '{}');
  return { status: res.status, json: JSON.parse(data) };
}

describe('virtual servers and tool-level access', function () {
  this.timeout(90_000);
  let cluster: Cluster;
  let upstream: UpstreamFixture;
  let key: string;
  const clients: Client[] = [];
  const url = (i: number, server?: string) => `${cluster.gateways[i]!.mcpUrl}${server ? `/${server}` : ''}`;

  /** An SDK client on replica `i` at /mcp[/server]: `auto` negotiates 2026-07-28 with this gateway; `legacy` opens a 2025-11-25 session. */
  const client = async (apiKey: string, era: 'auto' | 'legacy', i: number, server?: string) => {
    const c = new Client({ name: 'vs-test', version: '1' }, { versionNegotiation: { mode: era === 'auto' ? 'auto' : 'legacy' } });
    await c.connect(new StreamableHTTPClientTransport(new URL(url(i, server)), { requestInit: { headers: { authorization: `Bearer ${apiKey}` } } }));
    clients.push(c);
    return c;
  };
  const scopedKey = async (scopes: string[]) => {
    const r = await cluster.admin('POST', '/tenants/acme/keys', { name: 'scoped', scopes });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.apiKey as string;
  };
  const toolNames = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();

  before(async () => {
    [cluster, upstream] = await Promise.all([startCluster(2), startModernUpstream('gh')]);
    ({ apiKey: key } = await cluster.tenant('acme', ['platform', 'conformance', 'diagnostics']));
    assert.equal((await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'gh', url: upstream.url })).status, 201);
    const dev = await cluster.admin('POST', '/tenants/acme/servers', {
      name: 'dev',
      include: ['gh__*', 'platform.*', 'test_simple_prompt', 'test://static-*'],
      exclude: ['gh__slow'],
      renames: [{ from: 'gh__echo', to: 'echo' }],
      descriptions: { 'platform.whoami': 'who am I, on dev' },
    });
    assert.equal(dev.status, 201, JSON.stringify(dev.body));
    assert.equal(
      (await cluster.admin('POST', '/tenants/acme/servers', { name: 'ops', include: ['diagnostics.*', 'slow_compute', 'gh+mem://**'] })).status,
      201,
    );
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster?.stop();
    await upstream?.close();
  });

  describe('admin API', () => {
    it('shows, lists and audits virtual servers', async () => {
      const show = await cluster.admin('GET', '/tenants/acme/servers/dev');
      assert.equal(show.status, 200);
      assert.deepEqual(show.body.server.renames, [{ from: 'gh__echo', to: 'echo' }]);
      assert.equal(show.body.server.toolListing, 'all');
      const list = await cluster.admin('GET', '/tenants/acme/servers', undefined, 1);
      assert.deepEqual(
        list.body.servers.map((s: { name: string }) => s.name),
        ['dev', 'ops'],
      );
      const audit = await cluster.admin('GET', '/audit?tenant=acme&limit=50');
      assert.ok(audit.body.entries.some((e: { action: string; target: string }) => e.action === 'server.create' && e.target === 'dev'));
    });

    const bad: [string, unknown, number, RegExp][] = [
      ['an upper-case name', { name: 'Dev', include: ['*'] }, 400, /virtual server name/],
      ['a name with an underscore', { name: 'my_server', include: ['*'] }, 400, /virtual server name/],
      ['a 64-character name', { name: 'a'.repeat(64), include: ['*'] }, 400, /virtual server name/],
      ['a name ending in a hyphen', { name: 'dev-', include: ['*'] }, 400, /virtual server name/],
      ['no include', { name: 'x' }, 400, /include/],
      ['an empty include list', { name: 'x', include: [] }, 400, /at least one include glob/],
      ['a glob with whitespace', { name: 'x', include: ['a b'] }, 400, /without whitespace/],
      ['an unclosed bracket', { name: 'x', include: ['[a'] }, 400, /not a valid glob/],
      ['an unknown field', { name: 'x', include: ['*'], color: 'red' }, 400, /color/],
      ['a bad tool listing', { name: 'x', include: ['*'], toolListing: 'some' }, 400, /toolListing/],
      ['a rename to a name outside the tool-name rules', { name: 'x', include: ['*'], renames: [{ from: 'gh__echo', to: 'has space' }] }, 400, /tool name/],
      ['a rename of a tool the server does not select', { name: 'x', include: ['platform.*'], renames: [{ from: 'gh__echo', to: 'e' }] }, 400, /do not select/],
      [
        'a tool renamed twice',
        {
          name: 'x',
          include: ['*'],
          renames: [
            { from: 'gh__echo', to: 'a' },
            { from: 'gh__echo', to: 'b' },
          ],
        },
        400,
        /renamed twice/,
      ],
      ['a rename onto another visible tool', { name: 'x', include: ['gh__*'], renames: [{ from: 'gh__echo', to: 'gh__progress' }] }, 409, /collides/],
      [
        'two renames onto one name',
        {
          name: 'x',
          include: ['gh__*'],
          renames: [
            { from: 'gh__echo', to: 'z' },
            { from: 'gh__progress', to: 'z' },
          ],
        },
        409,
        /collides/,
      ],
      ['a taken name', { name: 'dev', include: ['*'] }, 409, /already exists/],
    ];
    for (const [what, body, status, message] of bad) {
      it(`refuses ${what} (${status})`, async () => {
        const r = await cluster.admin('POST', '/tenants/acme/servers', body);
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.match(`${r.body.error.message} ${(r.body.error.issues ?? []).join(' ')}`, message);
      });
    }

    it('a rename onto a tool the server does not show is fine', async () => {
      const r = await cluster.admin('POST', '/tenants/acme/servers', {
        name: 'renamer',
        include: ['gh__echo'],
        renames: [{ from: 'gh__echo', to: 'gh__progress' }],
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal((await cluster.admin('DELETE', '/tenants/acme/servers/renamer')).status, 204);
    });

    it('answers 404 for an unknown server or tenant, 400 for a bad name in the path, 405 for other methods', async () => {
      assert.equal((await cluster.admin('GET', '/tenants/acme/servers/nope')).status, 404);
      assert.equal((await cluster.admin('DELETE', '/tenants/acme/servers/nope')).status, 404);
      assert.equal((await cluster.admin('GET', '/tenants/nobody/servers')).status, 404);
      assert.equal((await cluster.admin('GET', '/tenants/acme/servers/Bad_Name')).status, 400);
      assert.equal((await cluster.admin('PUT', '/tenants/acme/servers')).status, 405);
      assert.equal((await cluster.admin('PATCH', '/tenants/acme/servers/dev')).status, 405);
    });

    it('creates keys with scopes; refuses scopes outside the grammar and unknown servers (400)', async () => {
      const ok = await cluster.admin('POST', '/tenants/acme/keys', { name: 'k', scopes: ['server:dev', 'tool:echo'] });
      assert.equal(ok.status, 201);
      assert.deepEqual(ok.body.key.scopes, ['server:dev', 'tool:echo']);
      const unknown = await cluster.admin('POST', '/tenants/acme/keys', { scopes: ['server:nope'] });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error.issues.join(' '), /no virtual server "nope"/);
      for (const scope of ['admin', 'server:', 'server:Dev', 'tool:', 'tool:a b', 'tool:[x']) {
        const r = await cluster.admin('POST', '/tenants/acme/keys', { scopes: [scope] });
        assert.equal(r.status, 400, scope);
      }
      assert.equal((await cluster.admin('POST', '/tenants/acme/keys', { scopes: 'server:dev' })).status, 400);
      const audit = await cluster.admin('GET', '/audit?tenant=acme&limit=100');
      assert.ok(
        audit.body.entries.some(
          (e: { action: string; detail?: { scopes?: string[] } }) => e.action === 'key.create' && e.detail?.scopes?.includes('server:dev'),
        ),
      );
    });
  });

  describe('serving /mcp/<server>', () => {
    /** What dev shows, from the whole tenant's list: gh__* but gh__slow, gh__echo as echo, platform.*. */
    const devTools = async () => {
      const all = await toolNames(await client(key, 'auto', 0));
      const shown = all.filter((n) => (n.startsWith('gh__') || n.startsWith('platform.')) && n !== 'gh__slow').map((n) => (n === 'gh__echo' ? 'echo' : n));
      assert.ok(shown.length >= 6 && shown.includes('echo'));
      return shown.sort();
    };

    for (const era of ['auto', 'legacy'] as const) {
      it(`lists only the selection, renamed and re-described (${era === 'auto' ? '2026-07-28' : '2025-11-25'})`, async () => {
        const c = await client(key, era, 1, 'dev');
        assert.equal(c.getNegotiatedProtocolVersion(), era === 'auto' ? '2026-07-28' : '2025-11-25');
        const tools = (await c.listTools()).tools;
        const names = tools.map((t) => t.name).sort();
        assert.deepEqual(names, await devTools());
        assert.ok(!names.includes('gh__slow') && !names.includes('gh__echo'), 'excluded and renamed-away names are absent');
        assert.equal(tools.find((t) => t.name === 'platform.whoami')?.description, 'who am I, on dev');
        assert.deepEqual((await c.listPrompts()).prompts.map((p) => p.name).sort(), ['gh__greet', 'test_simple_prompt']);
        assert.deepEqual((await c.listResources()).resources.map((r) => r.uri).sort(), ['test://static-binary', 'test://static-text']);
        const call = await c.callTool({ name: 'echo', arguments: { text: 'hi' } });
        assert.equal((call.content as { text: string }[])[0]!.text, 'gh:hi');
        const who = await c.callTool({ name: 'platform.whoami', arguments: {} });
        assert.ok(!who.isError);
      });

      it(`refuses hidden, renamed-away and unknown names alike (${era === 'auto' ? '2026-07-28' : '2025-11-25'})`, async () => {
        const c = await client(key, era, 0, 'dev');
        const errors: string[] = [];
        for (const name of ['gh__slow', 'gh__echo', 'diagnostics.echo', 'no_such_tool']) {
          const err = await c.callTool({ name, arguments: { text: 'x', ms: 1 } }).then(
            (r) => (r.isError ? JSON.stringify(r.content) : 'answered'),
            (e: { code?: number; message: string }) => `${e.code} ${e.message.replace(name, '<name>')}`,
          );
          errors.push(err);
        }
        assert.equal(new Set(errors).size, 1, `one answer for every unseen name: ${errors.join(' | ')}`);
        assert.match(errors[0]!, /-32602/);
        await assert.rejects(c.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } }), /not found/);
        await assert.rejects(c.readResource({ uri: 'test://watched-resource' }), /not found/);
        const read = await c.readResource({ uri: 'test://static-text' });
        assert.match(JSON.stringify(read.contents), /static text resource/);
      });
    }

    it('answers 404 for an unknown server and serves /mcp for an unscoped key as the whole tenant', async () => {
      const r = await post(url(0, 'nope'), key, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
      assert.equal(r.status, 404);
      assert.match(r.json.error.message, /no virtual server "nope"/);
      assert.equal((await post(url(0, 'Bad_Name'), key, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })).status, 404);
      const whole = await client(key, 'auto', 0);
      const names = await toolNames(whole);
      assert.ok(names.includes('gh__slow') && names.includes('gh__echo') && names.includes('diagnostics.echo') && !names.includes('echo'));
    });

    it('binds a 2025-era session to the server it was created at', async () => {
      const s = await legacySession(url(0, 'dev'), key);
      await s.call(url(1, 'dev'), 'tools/list');
      await assert.rejects(s.call(url(1, 'ops'), 'tools/list'), (e: RpcError) => /[Ss]ession/.test(e.message));
      await assert.rejects(s.call(url(0), 'tools/list'), (e: RpcError) => /[Ss]ession/.test(e.message));
    });

    it('publishes RFC 9728 metadata per virtual server and points 401s at it', async () => {
      const base = cluster.gateways[0]!.url;
      const meta = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp/dev`)).json();
      assert.equal(meta.resource, `${base}/mcp/dev`);
      const root = await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json();
      assert.equal(root.resource, `${base}/mcp`);
      const unauth = await fetch(url(0, 'dev'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(unauth.status, 401);
      assert.match(unauth.headers.get('www-authenticate') ?? '', /resource_metadata="[^"]*\/\.well-known\/oauth-protected-resource\/mcp\/dev"/);
    });
  });

  describe('scoped keys', () => {
    it('serves a key scoped to one server at /mcp, and refuses it elsewhere with 403 whether or not the server exists', async () => {
      const devKey = await scopedKey(['server:dev']);
      const atRoot = await client(devKey, 'auto', 0);
      const atDev = await client(key, 'auto', 0, 'dev');
      assert.deepEqual(await toolNames(atRoot), await toolNames(atDev));
      for (const server of ['ops', 'nope']) {
        const r = await post(url(1, server), devKey, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
        assert.equal(r.status, 403, server);
        assert.equal(r.json.error.code, -32000);
        assert.match(r.json.error.message, /scoped to virtual server dev/);
      }
    });

    it('narrows a server to the tools its tool scopes name; tool scopes alone hide resources and prompts', async () => {
      const echoOnly = await client(await scopedKey(['server:dev', 'tool:echo']), 'legacy', 1);
      assert.deepEqual(await toolNames(echoOnly), ['echo']);
      assert.equal((await echoOnly.listPrompts()).prompts.length, 2, 'the server scope grants its prompts');
      const platformOnly = await client(await scopedKey(['tool:platform.*']), 'auto', 1);
      assert.deepEqual(await toolNames(platformOnly), ['platform.deployment', 'platform.whoami']);
      assert.equal((await platformOnly.listPrompts()).prompts.length, 0);
      assert.equal((await platformOnly.listResources()).resources.length, 0);
      await assert.rejects(platformOnly.readResource({ uri: 'test://static-text' }), /not found/);
    });

    it('refuses /mcp to a key scoped to several servers, naming them', async () => {
      const both = await scopedKey(['server:dev', 'server:ops']);
      const r = await post(url(0), both, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
      assert.equal(r.status, 403);
      assert.match(r.json.error.message, /several virtual servers \(dev, ops\)/);
      const atOps = await client(both, 'auto', 0, 'ops');
      assert.ok((await toolNames(atOps)).includes('diagnostics.echo'));
    });
  });

  describe('across replicas', () => {
    it('serves a server created on A from B within 1 s, and stops serving it there within 1 s of its deletion', async () => {
      const probe = async () => (await post(url(1, 'late'), key, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })).status;
      assert.equal(await probe(), 404);
      const created = await cluster.admin('POST', '/tenants/acme/servers', { name: 'late', include: ['platform.*'] }, 0);
      assert.equal(created.status, 201);
      const shown = await within(1_000, async () => (await probe()) !== 404);
      assert.equal((await cluster.admin('DELETE', '/tenants/acme/servers/late', undefined, 0)).status, 204);
      const gone = await within(1_000, async () => (await probe()) === 404);
      if (process.env.VS_REPORT) console.log(`      create on A -> served on B after ${shown} ms; delete -> 404 on B after ${gone} ms`);
    });

    it('sends list_changed only to callers whose view changed, in both eras', async () => {
      const count = (c: Client) => {
        const n = { tools: 0 };
        c.setNotificationHandler('notifications/tools/list_changed', async () => {
          n.tools++;
        });
        return n;
      };
      const devLegacy = await client(key, 'legacy', 1, 'dev');
      const platformLegacy = await client(await scopedKey(['tool:platform.*']), 'legacy', 1);
      const wholeLegacy = await client(key, 'legacy', 1);
      const devModern = await client(key, 'auto', 1, 'dev');
      const opsModern = await client(key, 'auto', 1, 'ops');
      const wholeModern = await client(key, 'auto', 1);
      const counters = [devLegacy, platformLegacy, wholeLegacy, devModern, opsModern, wholeModern].map(count);
      const subs = await Promise.all([devModern, opsModern, wholeModern].map((c) => c.listen({ toolsListChanged: true })));
      await sleep(300);
      try {
        // An upstream tool within dev's globs: dev's and the whole tenant's callers hear of it.
        upstream.addTool('added');
        await within(3_000, async () => counters[0]!.tools > 0 && counters[2]!.tools > 0 && counters[3]!.tools > 0 && counters[5]!.tools > 0);
        await sleep(1_000);
        assert.equal(counters[1]!.tools, 0, 'a platform-scoped session saw no change');
        assert.equal(counters[4]!.tools, 0, "ops' listen stream saw no change");
        // Deleting ops: only ops' callers' view changed.
        const before = counters.map((c) => c.tools);
        assert.equal((await cluster.admin('DELETE', '/tenants/acme/servers/ops', undefined, 0)).status, 204);
        await within(3_000, async () => counters[4]!.tools > before[4]!);
        await sleep(1_000);
        assert.deepEqual(
          counters.map((c, i) => c.tools - before[i]!),
          [0, 0, 0, 0, 1, 0],
        );
        await assert.rejects(toolNames(opsModern), 'a deleted server is not served any more');
        assert.equal((await post(url(1, 'ops'), key, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })).status, 404);
      } finally {
        await Promise.all(subs.map((s) => s.close()));
        await cluster.admin('POST', '/tenants/acme/servers', { name: 'ops', include: ['diagnostics.*', 'slow_compute', 'gh+mem://**'] });
      }
    });

    it("does not relay another view's resource updates to a restricted listen stream", async () => {
      const seen = (c: Client) => {
        const uris: string[] = [];
        c.setNotificationHandler('notifications/resources/updated', async (n) => {
          uris.push(n.params.uri);
        });
        return uris;
      };
      const whole = await client(key, 'auto', 0);
      const dev = await client(key, 'auto', 1, 'dev');
      const [wholeSeen, devSeen] = [seen(whole), seen(dev)];
      const subs = [
        await whole.listen({ resourceSubscriptions: ['gh+mem://readme'] }),
        await dev.listen({ resourceSubscriptions: ['gh+mem://readme', 'test://static-text'] }),
      ];
      try {
        await within(3_000, async () => {
          upstream.touch('mem://readme');
          return wholeSeen.includes('gh+mem://readme');
        });
        await sleep(500);
        assert.deepEqual(devSeen, [], 'dev does not show gh+mem://readme: its stream gets no update of it');
      } finally {
        await Promise.all(subs.map((s) => s.close()));
      }
    });
  });

  describe("toolListing 'search'", () => {
    before(async () => {
      const finder = await cluster.admin('POST', '/tenants/acme/servers', {
        name: 'finder',
        include: ['gh__*'],
        exclude: ['gh__slow'],
        renames: [{ from: 'gh__echo', to: 'echo' }],
        toolListing: 'search',
      });
      assert.equal(finder.status, 201, JSON.stringify(finder.body));
    });

    for (const era of ['auto', 'legacy'] as const) {
      it(`lists search_tools and call_tool only; both see and call the server's view, renames included (${era === 'auto' ? '2026-07-28' : '2025-11-25'})`, async () => {
        const c = await client(key, era, era === 'auto' ? 0 : 1, 'finder');
        assert.deepEqual(await toolNames(c), ['call_tool', 'search_tools']);
        const found = await c.callTool({ name: 'search_tools', arguments: { query: 'echo slow whoami', limit: 50 } });
        const names = ((found.structuredContent as { tools: { name: string }[] }).tools ?? []).map((t) => t.name);
        assert.ok(names.includes('echo'), `the renamed tool is found under its new name: ${names.join(', ')}`);
        assert.ok(
          names.every((n) => n === 'echo' || (n.startsWith('gh__') && n !== 'gh__slow' && n !== 'gh__echo')),
          `only the view: ${names.join(', ')}`,
        );
        const echoed = await c.callTool({ name: 'call_tool', arguments: { name: 'echo', arguments: { text: 'hi' } } });
        assert.equal((echoed.content as { text: string }[])[0]!.text, 'gh:hi');
        for (const hidden of ['gh__slow', 'gh__echo', 'diagnostics.echo']) {
          await assert.rejects(
            c.callTool({ name: 'call_tool', arguments: { name: hidden, arguments: { text: 'x', ms: 1 } } }),
            (e: { code?: number; message: string }) => e.code === -32602 && e.message.includes(`Tool ${hidden} not found`),
          );
        }
      });
    }

    it('adds nothing to the whole tenant: without the search toolset, search_tools is unknown at /mcp', async () => {
      const c = await client(key, 'auto', 0);
      assert.ok(!(await toolNames(c)).includes('search_tools'));
      await assert.rejects(c.callTool({ name: 'search_tools', arguments: { query: 'echo' } }), /Tool search_tools not found/);
    });
  });

  describe('tasks', () => {
    it('keeps a task out of a view that cannot call its tool (tasks/get, list, result, cancel), in both eras', async () => {
      const whole = await legacySession(url(0), key);
      const created = await whole.call(url(0), 'tools/call', { name: 'diagnostics.sleep', arguments: { ms: 60_000 }, task: {} });
      const taskId = (created['task'] as { taskId: string }).taskId;
      assert.ok(taskId);
      const dev = await legacySession(url(1, 'dev'), key);
      const unknownTask = async (id: string) => {
        const answers: string[] = [];
        for (const method of ['tasks/get', 'tasks/result', 'tasks/cancel'])
          answers.push(
            await dev.call(url(1, 'dev'), method, { taskId: id }).then(
              () => 'answered',
              (e: RpcError) => `${e.code} ${e.message.replace(id, '<id>')}`,
            ),
          );
        return answers;
      };
      assert.deepEqual(await unknownTask(taskId), await unknownTask('00000000-0000-4000-8000-000000000000'));
      const listed = (await dev.call(url(1, 'dev'), 'tasks/list'))['tasks'] as { taskId: string }[];
      assert.ok(!listed.some((t) => t.taskId === taskId));
      await assert.rejects(modernCall(url(1, 'dev'), key, 'tasks/get', { taskId }), (e: RpcError) => e.code === -32602);
      await assert.rejects(modernCall(url(1, 'dev'), key, 'tasks/cancel', { taskId }), (e: RpcError) => e.code === -32602);
      // Still there for a view that can call it.
      assert.equal((await whole.call(url(1), 'tasks/get', { taskId }))['taskId'], taskId);
      await whole.call(url(1), 'tasks/cancel', { taskId });
    });
  });
});
