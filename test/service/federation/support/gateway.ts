/**
 * Gateway replicas for the federation tests: N real gateways (real MCP endpoint) on one fresh database
 * and one Redis prefix, with UPSTREAM_ALLOWLIST permitting loopback and a master key set; plus helpers
 * for the admin API and for SDK clients of either protocol generation.
 */
import { randomBytes } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startGateway, type Gateway } from '../../../../service/src/app.js';
import { loadConfig } from '../../../../service/src/config.js';
import { createLogger, type Logger } from '../../../../service/src/log/logger.js';
import { testEnv } from '../../../support/platform-gateway.js';
import { createTestDatabase, createTestRedisPrefix, type TestDatabase } from '../../../support/platform-db.js';

/** Replicas sharing PostgreSQL and Redis. */
export interface Cluster {
  readonly gateways: Gateway[];
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly masterKey: string;
  readonly adminToken: string;
  /** Calls the admin API of replica `i` (default 0); returns status and parsed body. */
  admin(method: string, path: string, body?: unknown, i?: number): Promise<{ status: number; body: any }>;
  /** Creates a tenant (with toolsets) and returns its id and API key. */
  tenant(name: string, toolsets?: string[]): Promise<{ id: string; apiKey: string }>;
  /** A connected SDK client on replica `i`, 2026-07-28 (`modern`) or 2025-11-25 (`legacy`). */
  client(apiKey: string, era: 'modern' | 'legacy', i?: number, setup?: (client: Client) => void): Promise<Client>;
  stop(): Promise<void>;
}

/** Starts `n` replicas (`opts.logger`: the gateways' logger, e.g. one writing to a capture stream; default silent). */
export async function startCluster(n = 1, env: Record<string, string> = {}, opts: { logger?: Logger } = {}): Promise<Cluster> {
  const db = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const adminToken = randomBytes(24).toString('hex');
  const masterKey = randomBytes(32).toString('base64');
  const gateways: Gateway[] = [];
  const clients: Client[] = [];
  const baseEnv = testEnv(
    { UPSTREAM_ALLOWLIST: '127.0.0.0/8,localhost', SECRETS_MASTER_KEY: masterKey, RATE_LIMIT_PER_MINUTE: '0', ...env },
    db,
    redis.prefix,
    adminToken,
  );
  try {
    for (let i = 0; i < n; i++) gateways.push(await startGateway(loadConfig(baseEnv), { logger: opts.logger ?? createLogger({ level: 'silent' }) }));
  } catch (err) {
    for (const g of gateways) await g.close();
    await db.drop().catch(() => undefined);
    throw err;
  }
  const admin = async (method: string, path: string, body?: unknown, i = 0) => {
    const res = await fetch(`${gateways[i]!.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    gateways,
    db,
    prefix: redis.prefix,
    masterKey,
    adminToken,
    admin,
    async tenant(name, toolsets = ['diagnostics']) {
      const r = await admin('POST', '/tenants', { name, toolsets });
      if (r.status !== 201) throw new Error(`tenant create failed: ${JSON.stringify(r.body)}`);
      return { id: r.body.tenant.id, apiKey: r.body.apiKey };
    },
    async client(apiKey, era, i = 0, setup) {
      const client = new Client(
        { name: 'federation-test', version: '1' },
        { versionNegotiation: { mode: era === 'modern' ? { pin: '2026-07-28' } : 'legacy' }, ...(setup && { capabilities: { elicitation: { form: {} } } }) },
      );
      setup?.(client);
      const transport = new StreamableHTTPClientTransport(new URL(gateways[i]!.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${apiKey}` } } });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      for (const g of gateways) await g.close();
      await db.drop();
      await redis.cleanup();
    },
  };
}
