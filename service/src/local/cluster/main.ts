/**
 * `npm run cluster`: the local multi-replica cluster (see local-cluster.ts) until Ctrl-C. Prints
 * MCP_URL, API_KEY, ADMIN_URL and ADMIN_TOKEN once ready. Environment: CLUSTER_REPLICAS (default 3),
 * CLUSTER_WORKERS (default 2), CLUSTER_KEEP_DIR=1 keeps the temp dir with every process's log.
 */
import { startLocalCluster } from './local-cluster.js';

async function main(): Promise<void> {
  const started = Date.now();
  // Ctrl-C while starting aborts between steps; startLocalCluster then stops what already runs.
  const starting = new AbortController();
  const interrupt = () => starting.abort();
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const cluster = await startLocalCluster({
    signal: starting.signal,
    replicas: Number(process.env.CLUSTER_REPLICAS ?? 3),
    workers: Number(process.env.CLUSTER_WORKERS ?? 2),
    keepDir: process.env.CLUSTER_KEEP_DIR === '1',
  });
  process.off('SIGINT', interrupt);
  process.off('SIGTERM', interrupt);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping nginx, workers, gateways, fixture, PostgreSQL, Redis...\n`);
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const lines = [
    `MCP_URL=${cluster.mcpUrl}`,
    `API_KEY=${cluster.apiKey}`,
    `ADMIN_URL=${cluster.baseUrl}`,
    `ADMIN_TOKEN=${cluster.adminToken}`,
    '',
    `Cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s (dir ${cluster.dir}):`,
    `  nginx      ${cluster.baseUrl} -> ${cluster.gateways.map((g) => `${g.name} :${g.port}`).join(', ')}`,
    `  workers    ${cluster.workers.length ? cluster.workers.map((w) => `${w.name} (pid ${w.process.pid})`).join(', ') : cluster.workersNote}`,
    `  postgres   primary ${cluster.postgres.primaryUrl}, streaming replica ${cluster.postgres.replicaUrl}`,
    `  redis      ${cluster.redis.url} (append-only, fsync always)`,
    `  upstream   ${cluster.fixtureUrl}, federated for tenant demo as fixture__echo / fixture__slow`,
    '  Ctrl-C stops everything.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  if (/^interrupted/.test(message)) {
    process.stderr.write('cluster: interrupted while starting; stopped what had started\n');
    process.exit(130);
  }
  process.stderr.write(`cluster failed: ${message}\n`);
  process.exit(1);
});
