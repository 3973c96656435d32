/**
 * Environment of the hostile-input suite: one real gateway (startGateway with the real MCP endpoint) on a
 * fresh database and Redis prefix of the test services, two tenants with keys, a 2025-era session of the
 * second tenant (the "victim"), and a fingerprint of everything persistent so a test can prove that a
 * rejected request wrote nothing.
 *
 * "Written" means: any change to any row of any table in the gateway's database (audit log included, and
 * api_keys.last_used_at: keys are used once before the fingerprint so the once-a-minute touch has happened),
 * or any new Redis key under the gateway's prefix except the per-tenant rate-limit counter (`rl:`, which
 * counts every authenticated request by design) and read-through caches (`cache:` of the cache role and
 * `task:<id>`, the task store's cache of PostgreSQL task rows): derived copies that a lookup may fill or
 * expire, never a source of truth. Denied authentication is logged (pino, with the
 * request id) and counted in metrics, never audited: an audit row per anonymous request would let anyone
 * grow the database.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startGateway, type Gateway } from '../../../service/src/app.js';
import { loadConfig } from '../../../service/src/config.js';
import { createLogger } from '../../../service/src/log/logger.js';
import { createTestDatabase, createTestRedisPrefix, testServiceUrls, type TestDatabase } from '../../support/platform-db.js';

/** A tenant with a plain API key. */
export interface HostileTenant {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly keyId: string;
}

/** The running environment. */
export interface HostileEnv {
  readonly gateway: Gateway;
  readonly url: string;
  readonly mcpUrl: string;
  readonly adminToken: string;
  readonly acme: HostileTenant;
  readonly victim: HostileTenant;
  /** A key of acme that was revoked, and a key of a disabled tenant. */
  readonly revokedKey: string;
  readonly disabledTenantKey: string;
  /** A live 2025-era session of the victim tenant. */
  readonly victimSession: string;
  /** A task of the victim tenant (created with the tasks extension; no worker runs it here). */
  readonly victimTaskId: string;
  /** Virtual servers and scopes (issue 20): tenant `scoped` with servers alpha and beta. */
  readonly scoped: ScopedFixture;
  /** Stable digest of every table's rows plus the non-rate-limit Redis keys. */
  fingerprint(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Tenant `scoped` (platform, diagnostics, conformance) with two virtual servers: `alpha` (platform.*) and
 * `beta` (diagnostics.*, the conformance prompts and resources; diagnostics.echo renamed beta_echo). The
 * attacker holds `alphaKey`, scoped to alpha; beta's task was created through beta by the tenant's
 * unscoped key, which also opened `betaSession` at /mcp/beta.
 */
export interface ScopedFixture {
  readonly tenant: HostileTenant;
  readonly alphaKey: string;
  /** 2025-era session of alphaKey (at /mcp, so bound to alpha). */
  readonly alphaSession: string;
  /** 2025-era session of the unscoped key, created at /mcp/beta. */
  readonly betaSession: string;
  /** A task of diagnostics.sleep created through /mcp/beta. */
  readonly betaTaskId: string;
  readonly alphaUrl: string;
  readonly betaUrl: string;
}

export const MAX_BODY_BYTES = 65_536;

/** Legacy request headers. */
export function legacyHeaders(key: string, sid?: string): Record<string, string> {
  return {
    authorization: `Bearer ${key}`,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    ...(sid && { 'mcp-session-id': sid }),
  };
}

async function createTenant(gw: Gateway, name: string, toolsets: string[]): Promise<HostileTenant> {
  const tenant = await gw.tenants.create({ name, toolsets });
  const { key, record } = await gw.apiKeys.create(tenant.id, `${name} key`);
  return { id: tenant.id, name, key, keyId: record.id };
}

export async function initializeSession(mcpUrl: string, key: string): Promise<string> {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: legacyHeaders(key),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile', version: '1' } },
    }),
  });
  const sid = res.headers.get('mcp-session-id');
  await res.text();
  if (res.status !== 200 || !sid) throw new Error(`initialize failed: HTTP ${res.status}`);
  const ack = await fetch(mcpUrl, {
    method: 'POST',
    headers: legacyHeaders(key, sid),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await ack.text();
  return sid;
}

async function createTask(mcpUrl: string, key: string): Promise<string> {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'hostile', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
  };
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'diagnostics.sleep',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'diagnostics.sleep', arguments: { ms: 1 }, _meta: meta } }),
  });
  const text = await res.text();
  const taskId = (JSON.parse(text) as { result?: { taskId?: string } }).result?.taskId;
  if (!taskId) throw new Error(`task creation failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  return taskId;
}

/** Builds the {@link ScopedFixture} through the admin API (as an operator would). */
async function scopedFixture(gw: Gateway, adminToken: string): Promise<ScopedFixture> {
  const tenant = await createTenant(gw, 'scoped', ['platform', 'diagnostics', 'conformance']);
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${gw.url}/admin/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, any>;
    if (res.status !== 201) throw new Error(`admin ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await admin('/tenants/scoped/servers', { name: 'alpha', include: ['platform.*'] });
  await admin('/tenants/scoped/servers', {
    name: 'beta',
    include: ['diagnostics.*', 'test_*', 'test://**'],
    renames: [{ from: 'diagnostics.echo', to: 'beta_echo' }],
  });
  const alphaKey = (await admin('/tenants/scoped/keys', { name: 'alpha only', scopes: ['server:alpha'] }))['apiKey'] as string;
  const alphaUrl = `${gw.mcpUrl}/alpha`;
  const betaUrl = `${gw.mcpUrl}/beta`;
  return {
    tenant,
    alphaKey,
    alphaSession: await initializeSession(gw.mcpUrl, alphaKey),
    betaSession: await initializeSession(betaUrl, tenant.key),
    betaTaskId: await createTask(betaUrl, tenant.key),
    alphaUrl,
    betaUrl,
  };
}

async function tableDigest(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
    );
    const parts: string[] = [];
    for (const { s, t } of tables.rows) {
      const q = `SELECT count(*)::text AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM "${s}"."${t}" x`;
      const { rows } = await client.query<{ n: string; h: string }>(q);
      parts.push(`${s}.${t}:${rows[0]!.n}:${rows[0]!.h}`);
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

async function redisDigest(redisUrl: string, prefix: string): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch.filter((k) => !/^(rl|cache|task):/.test(k.slice(prefix.length))));
    } while (cursor !== '0');
    return keys.sort().join('\n');
  } finally {
    redis.disconnect();
  }
}

/** Starts the gateway and the fixtures. */
export async function startHostileEnv(): Promise<HostileEnv> {
  const db: TestDatabase = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const adminToken = randomBytes(24).toString('hex');
  let gateway: Gateway | undefined;
  try {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      REDIS_URL: testServiceUrls().redisUrl,
      REDIS_KEY_PREFIX: redis.prefix,
      // The task queue under this suite's prefix: on the shared Redis another run's worker must not take its job.
      TASK_QUEUE_PREFIX: `${redis.prefix}bull`,
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'silent',
      REQUEST_STATE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      RATE_LIMIT_PER_MINUTE: '100000',
      SHUTDOWN_GRACE_MS: '1000',
    });
    const gw = await startGateway(config, { logger: createLogger({ level: 'silent' }) });
    gateway = gw;
    const acme = await createTenant(gw, 'acme', ['platform', 'diagnostics']);
    const victim = await createTenant(gw, 'victim', ['platform', 'diagnostics']);
    const revoked = await gw.apiKeys.create(acme.id, 'revoked key');
    await gw.apiKeys.revoke(acme.id, revoked.record.id);
    const disabled = await createTenant(gw, 'dormant', ['platform']);
    await gw.tenants.setStatus(disabled.id, 'disabled');
    const victimSession = await initializeSession(gw.mcpUrl, victim.key);
    const victimTaskId = await createTask(gw.mcpUrl, victim.key);
    const scoped = await scopedFixture(gw, adminToken);
    // Use acme's key once so its last_used_at touch (at most once a minute) happens before fingerprints.
    await initializeSession(gw.mcpUrl, acme.key);
    return {
      gateway: gw,
      url: gw.url,
      mcpUrl: gw.mcpUrl,
      adminToken,
      acme,
      victim,
      revokedKey: revoked.key,
      disabledTenantKey: disabled.key,
      victimSession,
      victimTaskId,
      scoped,
      fingerprint: async () => `${await tableDigest(db.url)}\n--redis--\n${await redisDigest(testServiceUrls().redisUrl, redis.prefix)}`,
      async stop() {
        await gw.close();
        await db.drop();
        await redis.cleanup();
      },
    };
  } catch (err) {
    await gateway?.close().catch(() => undefined);
    await db.drop().catch(() => undefined);
    await redis.cleanup().catch(() => undefined);
    throw err;
  }
}
