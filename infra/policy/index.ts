/**
 * The unified-mcp policy pack entry (`pulumi preview --policy-pack infra/policy`).
 *
 * Constructing a PolicyPack starts the analyzer server, so nothing else imports this file: tests and
 * tools import the rules from ./rules/index.js and ./run.js instead.
 */
import { PolicyPack } from '@pulumi/policy';
import { toPolicies } from './pack.js';
import { ALL_RULES } from './rules/index.js';

new PolicyPack('unified-mcp', {
  description:
    'Unified MCP Platform guardrails: encryption, no public data stores, tags, container resources, PDBs, deletion protection, spot for workers only.',
  policies: toPolicies(ALL_RULES),
});
