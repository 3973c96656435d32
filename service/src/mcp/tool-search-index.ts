/**
 * The ranked full-text index behind `search_tools` (./tool-search.ts): MiniSearch over each tool's name,
 * title and description, and a small per-process cache of built indexes.
 *
 * Ranking: BM25 per field with boosts name 3 > title 2 > description 1; query words match whole words,
 * prefixes (3+ characters) and small typos (5+ characters, edit distance up to 20 % of the word); words
 * combine with OR, so a tool matching more of them ranks higher. A name equal to the query, or whose part
 * after `namespace__` is, is boosted. Names are split into words at `_`, `-`, `.`, `/` and camelCase, so
 * `github__createPullRequest` is found by "pull request". Ties are broken by name: one query over one
 * catalog always answers in one order.
 *
 * Cache: an index is keyed by tenant and a fingerprint of what it indexes (every visible tool's name,
 * title and description, in order), so a new catalog version, or another caller's filtered view, gets its
 * own index, and an unchanged one is never rebuilt. The cache holds derived data only (any replica builds
 * the same index from the same list); least recently used entries are dropped beyond its size.
 */
import { createHash } from 'node:crypto';
import MiniSearch from 'minisearch';

/** A tool as tools/list lists it (only the fields the index reads are typed). */
export interface ListedTool {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly [key: string]: unknown;
}

/** One hit: the tool's name and its score (higher is better). */
export interface ToolHit {
  readonly name: string;
  readonly score: number;
}

/** An index over one list of tools. */
export interface ToolIndex {
  /** Identifies the indexed list (tenant-independent). */
  readonly fingerprint: string;
  /** Every match of `query`, best first. */
  search(query: string): ToolHit[];
}

const NAMESPACE_SEPARATOR = '__';

/** Words of a name or text: split at anything but letters and digits, and at camelCase humps; lower-cased. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[^\p{L}\p{N}]+/u)) {
    if (!part) continue;
    const humps = part
      .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1 $2')
      .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, '$1 $2')
      .split(' ');
    for (const w of humps) if (w) out.push(w.toLowerCase());
    // `createPullRequest` is also found as typed.
    if (humps.length > 1) out.push(part.toLowerCase());
  }
  return out;
}

function fingerprintOf(tools: readonly ListedTool[]): string {
  const hash = createHash('sha256');
  for (const t of tools) hash.update(`${t.name}\u0000${t.title ?? ''}\u0000${t.description ?? ''}\u0001`);
  return hash.digest('base64url').slice(0, 22);
}

/** The part of `name` after its first `namespace__`, or the name. */
function ownName(name: string): string {
  const sep = name.indexOf(NAMESPACE_SEPARATOR);
  return sep > 0 ? name.slice(sep + NAMESPACE_SEPARATOR.length) : name;
}

function build(tools: readonly ListedTool[], fingerprint: string): ToolIndex {
  const index = new MiniSearch<{ id: string; name: string; title: string; description: string }>({
    fields: ['name', 'title', 'description'],
    tokenize: words,
    processTerm: (term) => term.toLowerCase(),
    searchOptions: {
      boost: { name: 3, title: 2, description: 1 },
      prefix: (term) => term.length >= 3,
      fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
      maxFuzzy: 2,
      combineWith: 'OR',
    },
  });
  const seen = new Set<string>();
  const docs = [];
  for (const t of tools) {
    // A list never names one tool twice; if one did, the first entry is the one tools/call reaches first.
    if (seen.has(t.name)) continue;
    seen.add(t.name);
    docs.push({ id: t.name, name: t.name, title: t.title ?? '', description: t.description ?? '' });
  }
  index.addAll(docs);
  return {
    fingerprint,
    search(query) {
      const q = query.trim().toLowerCase();
      const hits = index.search(query, {
        boostDocument: (id) => {
          const name = String(id).toLowerCase();
          return name === q ? 4 : ownName(name) === q ? 2 : 1;
        },
      });
      return hits
        .map((h) => ({ name: String(h.id), score: Math.round(h.score * 1000) / 1000 }))
        .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
  };
}

/** Built indexes by tenant and fingerprint. */
export class ToolIndexCache {
  private readonly entries = new Map<string, ToolIndex>();
  /** Indexes built since start (a cache miss each). */
  builds = 0;

  /** @param maxEntries - indexes kept. @defaultValue 64 */
  constructor(private readonly maxEntries = 64) {}

  /** The index of `tools` as `tenantId` sees them: cached, or built now. */
  get(tenantId: string, tools: readonly ListedTool[]): ToolIndex {
    const fingerprint = fingerprintOf(tools);
    const key = `${tenantId}\u0000${fingerprint}`;
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const index = build(tools, fingerprint);
    this.builds++;
    this.entries.set(key, index);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return index;
  }
}
