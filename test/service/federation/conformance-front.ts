/**
 * `npm run conformance -- --federated`: the gateway under test serves no built-in toolset; its anonymous
 * tenant `demo` has the conformance fixtures only through a root-mounted upstream, a separate platform
 * process (test/conformance/platform.ts, TOOLSETS=conformance) spoken to in a forced protocol generation,
 * so every scenario, input requests included, crosses the gateway hop. Like `npm start`, the front runs
 * an in-process task worker: task-augmented calls of upstream tools run on the front's task tier.
 */
import { randomBytes } from 'node:crypto';
import { startGateway, type Gateway } from '../../../service/src/app.js';
import { loadConfig } from '../../../service/src/config.js';
import { createLogger } from '../../../service/src/log/logger.js';
import { startWorker, type RunningWorker } from '../../../service/src/worker-main.js';
import { testEnv } from '../../support/platform-gateway.js';
import { createTestDatabase, createTestRedisPrefix } from '../../support/platform-db.js';

/** The front gateway of a federated conformance run. */
export interface FederatedFront {
  readonly mcpUrl: string;
  stop(): Promise<void>;
}

/** Starts the front gateway and registers `upstreamUrl` as a root upstream speaking `protocol`. */
export async function startFederatedFront(upstreamUrl: string, protocol: 'modern' | 'legacy'): Promise<FederatedFront> {
  const db = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const adminToken = randomBytes(24).toString('hex');
  let gateway: Gateway | undefined;
  let worker: RunningWorker | undefined;
  try {
    const env = testEnv(
      { ANONYMOUS_TENANT: 'demo', UPSTREAM_ALLOWLIST: '127.0.0.0/8', RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'silent' },
      db,
      redis.prefix,
      adminToken,
    );
    const config = loadConfig(env);
    gateway = await startGateway(config, { logger: createLogger({ level: 'silent' }) });
    worker = await startWorker(config, { logger: createLogger({ level: 'silent' }), registry: gateway.registry, serveMetrics: false });
    const admin = (path: string, body: unknown) =>
      fetch(`${gateway!.url}/admin/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const tenant = await admin('/tenants', { name: 'demo', toolsets: [], createKey: false });
    if (tenant.status !== 201) throw new Error(`front: tenant create failed: ${await tenant.text()}`);
    const up = await admin('/tenants/demo/upstreams', { name: 'fixtures', url: upstreamUrl, root: true, protocol, timeouts: { callMs: 60_000 } });
    if (up.status !== 201) throw new Error(`front: upstream registration failed: ${await up.text()}`);
  } catch (err) {
    await worker?.close();
    await gateway?.close();
    await db.drop().catch(() => undefined);
    await redis.cleanup().catch(() => undefined);
    throw err;
  }
  const gw = gateway;
  const wk = worker;
  return {
    mcpUrl: gw.mcpUrl,
    async stop() {
      await wk.close();
      await gw.close();
      await db.drop();
      await redis.cleanup();
    },
  };
}
