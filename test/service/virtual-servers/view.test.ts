/**
 * The caller's view (domain/virtual-server.ts): glob selection, excludes, renames and description
 * overrides, the scope grammar and how scopes combine. Pure functions: no services.
 */
import assert from 'node:assert/strict';
import { globError, parseScopes, scopeError, selector, viewFor, type VirtualServer } from '../../../service/src/domain/virtual-server.js';

const server = (over: Partial<VirtualServer> = {}): VirtualServer => ({
  tenantId: 't',
  name: 'dev',
  include: ['gh__*', 'platform.*', 'gh+mem://**', 'test_simple_prompt'],
  exclude: ['gh__slow'],
  renames: [{ from: 'gh__echo', to: 'echo' }],
  descriptions: { 'platform.whoami': 'who am I, for dev' },
  toolListing: 'all',
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...over,
});

describe('virtual servers: the caller view', () => {
  describe('selection', () => {
    it('includes by glob and removes excludes', () => {
      const sel = selector(server());
      assert.ok(sel('gh__progress'));
      assert.ok(sel('platform.whoami'));
      assert.ok(!sel('gh__slow'), 'excluded');
      assert.ok(!sel('diagnostics.echo'), 'not included');
      assert.ok(!sel('ghx__echo'));
    });
    it('matches URIs with ** across slashes and * within one segment', () => {
      const sel = selector({ include: ['gh+mem://**', 'test://static-*'], exclude: [] });
      assert.ok(sel('gh+mem://readme'));
      assert.ok(sel('gh+mem://items/{id}'));
      assert.ok(sel('test://static-text'));
      assert.ok(!sel('test://static/text'));
    });
    it('selects nothing without includes', () => {
      assert.ok(!selector({ include: [], exclude: [] })('anything'));
    });
  });

  describe('tools', () => {
    const view = viewFor(parseScopes([]), server());
    it('shows renamed tools under their new name and overridden descriptions', () => {
      assert.deepEqual(view.tool('gh__echo'), { name: 'echo' });
      assert.deepEqual(view.tool('platform.whoami'), { name: 'platform.whoami', description: 'who am I, for dev' });
      assert.equal(view.tool('gh__slow'), undefined);
      assert.equal(view.tool('diagnostics.echo'), undefined);
    });
    it('maps names coming in back to the tenant names; old names of renamed tools and hidden ones are unknown', () => {
      assert.equal(view.toolOriginal('echo'), 'gh__echo');
      assert.equal(view.toolOriginal('gh__progress'), 'gh__progress');
      assert.equal(view.toolOriginal('gh__echo'), undefined, 'the old name is not callable');
      assert.equal(view.toolOriginal('gh__slow'), undefined, 'excluded');
      assert.equal(view.toolOriginal('nope'), undefined);
    });
    it('a rename wins over a tool already carrying the new name', () => {
      const v = viewFor(parseScopes([]), server({ include: ['*'], exclude: [], renames: [{ from: 'a', to: 'b' }] }));
      assert.deepEqual(v.tool('a'), { name: 'b' });
      assert.equal(v.tool('b'), undefined, 'shadowed');
      assert.equal(v.toolOriginal('b'), 'a');
    });
    it('two tools may swap names', () => {
      const v = viewFor(
        parseScopes([]),
        server({
          include: ['*'],
          exclude: [],
          renames: [
            { from: 'a', to: 'b' },
            { from: 'b', to: 'a' },
          ],
        }),
      );
      assert.deepEqual([v.tool('a')?.name, v.tool('b')?.name], ['b', 'a']);
      assert.deepEqual([v.toolOriginal('a'), v.toolOriginal('b')], ['b', 'a']);
    });
  });

  describe('scopes', () => {
    it('parses server: and tool: scopes and ignores other OAuth scopes', () => {
      assert.deepEqual(parseScopes(['openid', 'server:dev', 'tool:gh__*', 'mcp:tools', 'server:BAD NAME']), { servers: ['dev'], tools: ['gh__*'] });
    });
    it('refuses scopes outside the grammar with a message naming the problem', () => {
      assert.equal(scopeError('server:dev'), undefined);
      assert.equal(scopeError('tool:gh__*'), undefined);
      assert.match(scopeError('admin')!, /neither server:<name> nor tool:<name>/);
      assert.match(scopeError('server:Dev_1')!, /not a virtual server name/);
      assert.match(scopeError('tool:')!, /not a tool name or glob/);
      assert.match(scopeError('tool:a b')!, /not a tool name or glob/);
      assert.match(scopeError('tool:[a')!, /not a valid glob/);
    });
    it('tool scopes narrow the tools of a server, by the names its callers see', () => {
      const v = viewFor(parseScopes(['server:dev', 'tool:echo']), server());
      assert.deepEqual(v.tool('gh__echo'), { name: 'echo' });
      assert.equal(v.tool('gh__progress'), undefined);
      assert.ok(v.prompt('test_simple_prompt'), 'a server scope grants the server resources and prompts');
    });
    it('a credential with tool scopes only sees those tools and no resources or prompts', () => {
      const v = viewFor(parseScopes(['tool:platform.*']), undefined);
      assert.deepEqual(v.tool('platform.whoami'), { name: 'platform.whoami' });
      assert.equal(v.tool('gh__echo'), undefined);
      assert.ok(!v.prompt('test_simple_prompt'));
      assert.ok(!v.resource('test://static-text'));
      assert.ok(!v.template('test://template/{id}/data'));
    });
    it('several tool scopes add up', () => {
      const v = viewFor(parseScopes(['tool:a', 'tool:b*']), undefined);
      assert.ok(v.toolVisible('a') && v.toolVisible('bz') && !v.toolVisible('c'));
    });
  });

  it('globError explains bad globs', () => {
    assert.equal(globError('gh__*'), undefined);
    assert.match(globError('has space')!, /without whitespace/);
    assert.match(globError('[unclosed')!, /not a valid glob/);
  });
});
