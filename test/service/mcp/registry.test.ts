/**
 * The built-in toolset registry: strict resolution for configuration, lenient at request time.
 */
import assert from 'node:assert/strict';
import { toolSearchMode, withSearchOnly } from '../../../service/src/mcp/tool-search.js';
import { BUILTIN_TOOLSETS, DEFAULT_TOOLSETS, knownToolsets, resolveToolsets } from '../../../service/src/tools/index.js';

describe('built-in toolset registry', () => {
  it('knows platform, diagnostics, conformance, search and search-only; the default is platform + diagnostics', () => {
    assert.deepEqual([...BUILTIN_TOOLSETS.keys()].sort(), ['conformance', 'diagnostics', 'platform', 'search', 'search-only']);
    assert.deepEqual(
      resolveToolsets(DEFAULT_TOOLSETS).map((t) => t.name),
      ['platform', 'diagnostics'],
    );
  });

  it('resolves in order without duplicates and names unknown toolsets', () => {
    assert.deepEqual(
      resolveToolsets(['diagnostics', 'platform', 'diagnostics']).map((t) => t.name),
      ['diagnostics', 'platform'],
    );
    assert.throws(() => resolveToolsets(['platform', 'nope', 'also-nope']), /unknown toolset\(s\): nope, also-nope \(known: /);
  });

  it('search-only includes search (the two tools are registered once)', () => {
    assert.deepEqual(
      resolveToolsets(['search', 'platform', 'search-only']).map((t) => t.name),
      ['platform', 'search-only'],
    );
  });

  it("tool search mode: off, beside (search), only (search-only, or a virtual server's toolListing 'search')", () => {
    assert.equal(toolSearchMode(resolveToolsets(['platform'])), 'off');
    assert.equal(toolSearchMode(resolveToolsets(['platform', 'search'])), 'beside');
    assert.equal(toolSearchMode(resolveToolsets(['search-only'])), 'only');
    const forced = withSearchOnly(resolveToolsets(['platform', 'search']));
    assert.deepEqual(
      forced.map((t) => t.name),
      ['platform', 'search-only'],
    );
    assert.equal(toolSearchMode(forced), 'only');
  });

  it('skips and reports unknown names at request time', () => {
    const unknown: string[] = [];
    assert.deepEqual(
      knownToolsets(['nope', 'platform'], (n) => unknown.push(n)).map((t) => t.name),
      ['platform'],
    );
    assert.deepEqual(unknown, ['nope']);
  });
});
