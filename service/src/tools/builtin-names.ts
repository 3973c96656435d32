/**
 * The names the built-in toolsets register, without serving anything: the federation layer refuses an
 * upstream root mount that would shadow one of them (the platform core injects this into createFederation).
 */
import { McpServer } from '@modelcontextprotocol/server';
import { BUILTIN_TOOLSETS, resolveToolsets } from './registry.js';
import type { ToolsetContext } from './types.js';

/** Names of the built-in tools and prompts a set of toolsets registers. */
export function builtinNames(toolsets: readonly string[]): { tools: Set<string>; prompts: Set<string> } {
  const probe = new McpServer({ name: 'probe', version: '0' });
  const noop = () => undefined;
  const ctx = {
    principal: { tenantId: '', tenantName: '', subject: 'probe', kind: 'anonymous', toolsets, scopes: [] },
    deployment: { region: '', version: '', health: async () => ({}) },
    notify: { toolsChanged: noop, promptsChanged: noop, resourcesChanged: noop, resourceUpdated: noop },
    requestState: { mint: async () => '' },
  } as unknown as ToolsetContext;
  for (const t of resolveToolsets(toolsets.filter((n) => BUILTIN_TOOLSETS.has(n)))) t.register(probe, ctx);
  const internals = probe as unknown as { _registeredTools: Record<string, unknown>; _registeredPrompts: Record<string, unknown> };
  return { tools: new Set(Object.keys(internals._registeredTools)), prompts: new Set(Object.keys(internals._registeredPrompts)) };
}
