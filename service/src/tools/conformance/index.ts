/**
 * `conformance`: every fixture the official conformance suite's server scenarios call
 * (@modelcontextprotocol/conformance). Names and payloads follow the scenarios' own descriptions;
 * enable it only for a tenant that runs the suite (`TOOLSETS=conformance`).
 */
import type { Toolset } from '../types.js';
import { registerContentTools } from './content-tools.js';
import { registerInteractiveTools } from './interactive-tools.js';
import { registerMrtrTools } from './mrtr-tools.js';
import { registerPrompts, registerResources } from './resources-prompts.js';
import { registerTaskTools } from './task-tools.js';

/** The `conformance` toolset. */
export const conformanceToolset: Toolset = {
  name: 'conformance',
  description: 'Fixtures for the official MCP conformance suite (tools, resources, templates, prompts, completion, MRTR).',
  capabilities: {
    tools: { listChanged: true },
    resources: { listChanged: true, subscribe: true },
    prompts: { listChanged: true },
    completions: {},
    logging: {},
  },
  register(server, ctx) {
    registerContentTools(server);
    registerInteractiveTools(server, ctx);
    registerMrtrTools(server, ctx);
    registerTaskTools(server);
    registerResources(server);
    registerPrompts(server);
  },
};
