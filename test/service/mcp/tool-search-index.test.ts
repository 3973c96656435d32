/**
 * The search index on its own (pure: no I/O): word splitting of names, ranking rules, determinism, and
 * the cache keyed by tenant and the indexed fields.
 */
import assert from 'node:assert/strict';
import { ToolIndexCache, words } from '../../../service/src/mcp/tool-search-index.js';

const TOOLS = [
  { name: 'github__createPullRequest', title: 'Create pull request', description: 'Opens a pull request.' },
  { name: 'github__list_issues', description: 'Lists issues of a repository.' },
  { name: 'jira__create_issue', description: 'Creates an issue in a project.' },
  { name: 'notes.create', description: 'Writes a note; mentions pull request in passing.' },
  { name: 'create', description: 'A root-mounted tool named exactly create.' },
];

describe('tool search index', () => {
  it('splits names at __, punctuation and camelCase, keeping the camelCase word whole too', () => {
    assert.deepEqual(words('github__createPullRequest'), ['github', 'create', 'pull', 'request', 'createpullrequest']);
    assert.deepEqual(words('notes.create-v2/x'), ['notes', 'create', 'v2', 'x']);
    assert.deepEqual(words('HTTPServer_start'), ['http', 'server', 'httpserver', 'start']);
    assert.deepEqual(words('!!! ---'), []);
  });

  it('ranks a name match over a description match, boosts an exact name, orders ties by name', () => {
    const index = new ToolIndexCache().get('t', TOOLS);
    const pr = index.search('pull request').map((h) => h.name);
    assert.equal(pr[0], 'github__createPullRequest');
    assert.ok(pr.indexOf('notes.create') > 0, 'a description match ranks lower');
    assert.equal(index.search('create')[0]?.name, 'create', 'the exact name first');
    assert.equal(index.search('create_issue')[0]?.name, 'jira__create_issue');
    const hits = index.search('issue');
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score > hits[i]!.score || hits[i - 1]!.name < hits[i]!.name);
    assert.deepEqual(index.search('!!!'), []);
    assert.deepEqual(index.search('pull request'), index.search('pull request'));
  });

  it('caches per tenant and indexed fields: one build per view, a changed description rebuilds, LRU bounded', () => {
    const cache = new ToolIndexCache(2);
    const a = cache.get('t1', TOOLS);
    assert.equal(
      cache.get(
        't1',
        TOOLS.map((t) => ({ ...t, inputSchema: { type: 'object' } })),
      ),
      a,
      'fields not indexed do not matter',
    );
    assert.equal(cache.builds, 1);
    const changed = TOOLS.map((t, i) => (i === 0 ? { ...t, description: 'Opens a merge request.' } : t));
    assert.notEqual(cache.get('t1', changed).fingerprint, a.fingerprint);
    assert.equal(cache.builds, 2);
    cache.get('t2', TOOLS);
    assert.equal(cache.builds, 3, 'another tenant gets its own index');
    cache.get('t1', TOOLS);
    assert.equal(cache.builds, 4, 'the least recently used entry was dropped');
  });
});
