/**
 * The registry of built-in toolsets. A tenant's `toolsets` list (or `TOOLSETS` for the demo tenant)
 * names entries of it; unknown names are reported, never silently ignored.
 */
import { conformanceToolset } from './conformance/index.js';
import { diagnosticsToolset } from './diagnostics.js';
import { platformToolset } from './platform.js';
import { SEARCH_ONLY_TOOLSET, SEARCH_TOOLSET, searchOnlyToolset, searchToolset } from './search.js';
import type { Toolset } from './types.js';

/** Every built-in toolset by name. */
export const BUILTIN_TOOLSETS: ReadonlyMap<string, Toolset> = new Map(
  [platformToolset, diagnosticsToolset, conformanceToolset, searchToolset, searchOnlyToolset].map((t) => [t.name, t]),
);

/** The default for a new tenant (and `TOOLSETS` when unset). */
export const DEFAULT_TOOLSETS = ['platform', 'diagnostics'] as const;

/** Resolves names to toolsets, in the given order, without duplicates; throws naming unknown ones. */
export function resolveToolsets(names: readonly string[]): Toolset[] {
  const unknown = names.filter((n) => !BUILTIN_TOOLSETS.has(n));
  if (unknown.length > 0) {
    throw new Error(`unknown toolset(s): ${unknown.join(', ')} (known: ${[...BUILTIN_TOOLSETS.keys()].join(', ')})`);
  }
  // `search-only` includes what `search` registers (the same two tools).
  const unique = new Set(names);
  if (unique.has(SEARCH_ONLY_TOOLSET)) unique.delete(SEARCH_TOOLSET);
  return [...unique].map((n) => BUILTIN_TOOLSETS.get(n)!);
}

/**
 * Lenient variant for request time: a tenant row naming a toolset this build does not have (e.g. after
 * a rollback) must not break the tenant; unknown names are reported through `onUnknown` and skipped.
 */
export function knownToolsets(names: readonly string[], onUnknown: (name: string) => void): Toolset[] {
  const known = names.filter((n) => {
    if (BUILTIN_TOOLSETS.has(n)) return true;
    onUnknown(n);
    return false;
  });
  return resolveToolsets(known);
}
