/**
 * The names the built-in toolsets register, without serving anything: the federation layer refuses an
 * upstream root mount that would shadow one of them (the platform core injects this into createFederation).
 */
import { McpServer } from '@modelcontextprotocol/server';
import { BUILTIN_TOOLSETS, resolveToolsets } from './registry.js';
import { TOOL_SEARCH_NAMES } from './search.js';
import { recordingSurface } from './surface.js';
import type { ToolsetContext } from './types.js';

/**
 * Names of the built-in tools and prompts a set of toolsets registers, plus the tool-search names
 * (`search_tools`, `call_tool`), reserved for every tenant since a virtual server may turn search on.
 */
export function builtinNames(toolsets: readonly string[]): { tools: Set<string>; prompts: Set<string> } {
  const surface = recordingSurface(new McpServer({ name: 'probe', version: '0' }));
  const noop = () => undefined;
  const ctx = {
    principal: { tenantId: '', tenantName: '', subject: 'probe', kind: 'anonymous', toolsets, scopes: [] },
    deployment: { region: '', version: '', health: async () => ({}) },
    notify: { toolsChanged: noop, promptsChanged: noop, resourcesChanged: noop, resourceUpdated: noop },
    requestState: { mint: async () => '' },
  } as unknown as ToolsetContext;
  for (const t of resolveToolsets(toolsets.filter((n) => BUILTIN_TOOLSETS.has(n)))) t.register(surface, ctx);
  return { tools: new Set([...surface.tools.keys(), ...TOOL_SEARCH_NAMES]), prompts: new Set(surface.prompts) };
}
