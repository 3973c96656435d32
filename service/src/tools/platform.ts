/**
 * `platform`: who am I, and what is this deployment. Read-only, cheap, safe for every tenant.
 */
import { z } from 'zod';
import type { Toolset } from './types.js';

const json = (value: unknown) => ({
  content: [{ type: 'text' as const, text: JSON.stringify(value) }],
  structuredContent: value as Record<string, unknown>,
});

const NoArgs = z.object({});
const WhoamiOutput = z.object({ tenantId: z.string(), tenant: z.string(), subject: z.string(), kind: z.string() });
/**
 * Dependency health as the process reports it (a gateway: postgres, redis, migrations, draining; a worker:
 * worker). Named fields, not an open record: clients and inspectors expect portable output schemas.
 */
const Health = z
  .object({ postgres: z.boolean(), redis: z.boolean(), migrations: z.boolean(), draining: z.boolean(), worker: z.boolean() })
  .partial()
  .describe('Dependency health of the process that answered');
const DeploymentOutput = z.object({ region: z.string(), version: z.string(), health: Health });

/** The `platform` toolset: `platform.whoami`, `platform.deployment`. */
export const platformToolset: Toolset = {
  name: 'platform',
  description: 'Identity of the caller and facts about this deployment.',
  capabilities: { tools: { listChanged: true } },
  register(server, { principal, deployment }) {
    server.registerTool(
      'platform.whoami',
      {
        title: 'Who am I',
        description: 'Returns the tenant and subject this request is authenticated as.',
        inputSchema: NoArgs,
        outputSchema: WhoamiOutput,
        annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
      },
      async () => json({ tenantId: principal.tenantId, tenant: principal.tenantName, subject: principal.subject, kind: principal.kind }),
    );
    server.registerTool(
      'platform.deployment',
      {
        title: 'Deployment',
        description: "This deployment's region, version and dependency health.",
        inputSchema: NoArgs,
        outputSchema: DeploymentOutput,
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      async () => json({ region: deployment.region, version: deployment.version, health: await deployment.health() }),
    );
  },
};
