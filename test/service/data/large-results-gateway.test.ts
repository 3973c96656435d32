/**
 * Large tool results through real gateways (real PG database, real Redis prefix, real MCP endpoint):
 * built-in and federated tool results over LARGE_RESULT_BYTES come back as a summary + resource_link,
 * resources/read returns the original bytes to the same tenant only (both protocol generations), small
 * results are untouched; the retention schedule purges expired objects (one replica at a time); the S3
 * backend works end to end through the gateway (s3rver).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@modelcontextprotocol/client';
import { Redis } from 'ioredis';
import { createLogger } from '../../../service/src/log/logger.js';
import { startWorker } from '../../../service/src/worker-main.js';
import { LocalBlobStore } from '../../../service/src/store/blob/index.js';
import { startBlobRetention } from '../../../service/src/store/blob/retention-schedule.js';
import { createTestRedisPrefix, testServiceUrls } from '../../support/platform-db.js';
import { startCluster, type Cluster } from '../federation/support/gateway.js';
import { startModernUpstream, type UpstreamFixture } from '../federation/support/upstream-fixtures.js';
import { modernCall, waitForTask } from '../tasks/support.js';
import { freePort } from './support/pg-cluster.js';

type Content = { type: string; text?: string; uri?: string; mimeType?: string; size?: number; name?: string };
const contentOf = (r: unknown) => (r as { content: Content[] }).content;

/** Asserts the summary + resource_link shape and returns the link. */
function linkOf(result: unknown, tenantId: string, bytes: number): Content {
  const content = contentOf(result);
  assert.equal(content.length, 2, JSON.stringify(content).slice(0, 500));
  assert.equal(content[0]!.type, 'text');
  assert.match(content[0]!.text ?? '', /stored as umcp-blob:\/\/.+ Read it with resources\/read/);
  const link = content[1]!;
  assert.equal(link.type, 'resource_link');
  assert.ok(link.uri?.startsWith(`umcp-blob://${tenantId}/results/`), link.uri);
  assert.equal(link.size, bytes);
  return link;
}

async function readText(client: Client, uri: string): Promise<string> {
  const { contents } = await client.readResource({ uri });
  assert.equal(contents.length, 1);
  assert.equal(contents[0]!.uri, uri);
  return (contents[0] as { text: string }).text;
}

describe('large tool results by reference (through the gateway)', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let upstream: UpstreamFixture;
  let blobDir: string;
  let acme: { id: string; apiKey: string };
  let globex: { id: string; apiKey: string };

  before(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'umcp-k-blobs-'));
    [cluster, upstream] = await Promise.all([startCluster(2, { LARGE_RESULT_BYTES: '4096', BLOB_LOCAL_DIR: blobDir }), startModernUpstream('m')]);
    acme = await cluster.tenant('acme', ['diagnostics']);
    globex = await cluster.tenant('globex', ['diagnostics']);
    const r = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'mod', url: upstream.url });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
  after(async () => {
    await cluster?.stop();
    await upstream?.close();
    if (blobDir) await rm(blobDir, { recursive: true, force: true });
  });

  for (const era of ['modern', 'legacy'] as const) {
    describe(`${era} client`, () => {
      let a: Client;
      let b: Client;
      let other: Client;
      before(async () => {
        a = await cluster.client(acme.apiKey, era, 0);
        b = await cluster.client(acme.apiKey, era, 1);
        other = await cluster.client(globex.apiKey, era, 1);
      });

      it('returns a large built-in result as a resource_link whose read gives the original bytes (any replica)', async () => {
        const big = `${era}-é-${'0123456789abcdef'.repeat(4_000)}`;
        const result = await a.callTool({ name: 'diagnostics.echo', arguments: { text: big } });
        const link = linkOf(result, acme.id, Buffer.byteLength(big));
        assert.match(link.mimeType ?? '', /^text\/plain/);
        assert.ok(JSON.stringify(result).length < 4096, 'the answer itself is small');
        assert.equal(await readText(a, link.uri!), big);
        assert.equal(await readText(b, link.uri!), big, 'the other replica reads it too (shared store)');
      });

      it('returns a large federated (upstream) result the same way', async () => {
        const big = 'u'.repeat(20_000);
        const link = linkOf(await a.callTool({ name: 'mod__echo', arguments: { text: big } }), acme.id, big.length + 2);
        assert.equal(await readText(b, link.uri!), `m:${big}`);
      });

      it("answers another tenant's read with not found, also when it names its own tenant in the URI", async () => {
        const link = linkOf(await a.callTool({ name: 'diagnostics.echo', arguments: { text: 'x'.repeat(10_000) } }), acme.id, 10_000);
        await assert.rejects(other.readResource({ uri: link.uri! }), /not found/i);
        await assert.rejects(other.readResource({ uri: link.uri!.replace(`//${acme.id}/`, `//${globex.id}/`) }), /not found/i);
        await assert.rejects(a.readResource({ uri: `umcp-blob://${acme.id}/results/../../${globex.id}/x` }), /not found/i);
        assert.equal((await readText(a, link.uri!)).length, 10_000, 'still readable by its tenant');
      });

      it('leaves small results untouched', async () => {
        const result = await a.callTool({ name: 'diagnostics.echo', arguments: { text: 'hello' } });
        assert.deepEqual(contentOf(result), [{ type: 'text', text: 'hello' }]);
        const up = await a.callTool({ name: 'mod__echo', arguments: { text: 'hi' } });
        assert.deepEqual(contentOf(up), [{ type: 'text', text: 'm:hi' }]);
      });
    });
  }

  // Nested so mocha runs them after the era suites above.
  describe('afterwards', () => {
    it('stores the objects under the tenant prefix of the configured directory', async () => {
      const tenants = await readdir(join(blobDir, 'data', 'tenants'));
      assert.deepEqual(tenants, [acme.id]);
      const days = await readdir(join(blobDir, 'data', 'tenants', acme.id, 'results'));
      assert.equal(days.length, 1);
      assert.equal((await readdir(join(blobDir, 'data', 'tenants', acme.id, 'results', days[0]!))).length, 6, 'three large results per era');
    });

    it('counts stored results in /metrics', async () => {
      const text = await (await fetch(`${cluster.gateways[0]!.url}/metrics`)).text();
      const m = /umcp_large_results_total\{outcome="stored"[^}]*\} (\d+)/.exec(text);
      assert.ok(
        m && Number(m[1]) >= 6,
        text
          .split('\n')
          .filter((l) => l.includes('large_result'))
          .join('\n'),
      );
    });
  });
});

describe('object storage retention purge', function () {
  this.timeout(60_000);

  it('runs on one replica at a time and deletes expired objects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'umcp-k-retention-'));
    const redisPrefix = createTestRedisPrefix();
    const redis = new Redis(testServiceUrls().redisUrl);
    const store = new LocalBlobStore({ root: dir, retention: { maxAgeMs: 300 } });
    const logger = createLogger({ level: 'silent' });
    // Long interval: only the explicit runs below happen.
    const opts = { store, redis, keyPrefix: redisPrefix.prefix, intervalMs: 60_000, firstRunMs: 3_600_000, logger };
    const r1 = startBlobRetention(opts);
    const r2 = startBlobRetention(opts);
    try {
      await store.put('t1', 'results/old', 'expired soon');
      await store.put('t2', 'results/old', 'expired soon');
      await delay(400);
      await store.put('t1', 'results/new', 'fresh');
      const [x, y] = await Promise.all([r1.runOnce(), r2.runOnce()]);
      const ran = [x, y].filter((r) => r.ran);
      assert.equal(ran.length, 1, `exactly one replica purges: ${JSON.stringify([x, y])}`);
      assert.deepEqual(ran[0], { ...ran[0], deleted: 2 });
      assert.ok([x, y].some((r) => !r.ran && (r.reason === 'locked' || r.reason === 'recently-purged')));
      assert.equal(await store.get('t1', 'results/old'), null);
      assert.equal(await store.get('t2', 'results/old'), null);
      assert.ok(await store.get('t1', 'results/new').then((o) => (o?.body.destroy(), o)));
      // Within the interval nobody purges again.
      assert.deepEqual(await r1.runOnce(), { ran: false, reason: 'recently-purged' });
      assert.equal(await redis.exists(`${redisPrefix.prefix}blob:purge:lock`), 0, 'lock released after the run');
    } finally {
      await r1.stop();
      await r2.stop();
      redis.disconnect();
      await redisPrefix.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('purges on schedule in a running gateway: an expired link reads as not found', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'umcp-k-gw-retention-'));
    // 0.00002 days = 1.728 s; purge every 200 ms.
    const cluster = await startCluster(1, { LARGE_RESULT_BYTES: '2048', BLOB_LOCAL_DIR: dir, BLOB_RETENTION_DAYS: '0.00002', BLOB_PURGE_INTERVAL_MS: '200' });
    try {
      const t = await cluster.tenant('acme', ['diagnostics']);
      const client = await cluster.client(t.apiKey, 'modern');
      const link = linkOf(await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'r'.repeat(5_000) } }), t.id, 5_000);
      assert.match(
        contentOf(await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'r'.repeat(5_000) } }))[0]!.text ?? '',
        /kept for 0\.00002 day/,
      );
      assert.equal((await readText(client, link.uri!)).length, 5_000);
      const deadline = Date.now() + 15_000;
      let gone = false;
      while (!gone && Date.now() < deadline) {
        await delay(250);
        gone = await client.readResource({ uri: link.uri! }).then(
          () => false,
          (err: Error) => /not found/i.test(err.message),
        );
      }
      assert.ok(gone, 'expired result purged within 15 s');
    } finally {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('large task results (worker tier)', function () {
  this.timeout(60_000);

  it('stores a long-running upstream tool result produced by the worker and returns it by reference in tasks/get', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'umcp-k-task-blobs-'));
    const queuePrefix = `umcp-k-${randomBytes(6).toString('hex')}`;
    const upstream = await startModernUpstream('w');
    const cluster = await startCluster(1, { LARGE_RESULT_BYTES: '2048', BLOB_LOCAL_DIR: dir, TASK_QUEUE_PREFIX: queuePrefix, TASK_BACKOFF_MS: '100' });
    const worker = await startWorker(cluster.gateways[0]!.config, { logger: createLogger({ level: 'silent' }), serveMetrics: false });
    const redis = new Redis(testServiceUrls().redisUrl);
    try {
      const t = await cluster.tenant('acme', ['diagnostics']);
      const r = await cluster.admin('POST', '/tenants/acme/upstreams', { name: 'mod', url: upstream.url, longRunning: ['echo'] });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const mcp = cluster.gateways[0]!.mcpUrl;
      const big = 'T'.repeat(12_000);
      const created = await modernCall(mcp, t.apiKey, 'tools/call', { name: 'mod__echo', arguments: { text: big } });
      assert.equal(created['resultType'], 'task', JSON.stringify(created).slice(0, 300));
      const done = await waitForTask(() => modernCall(mcp, t.apiKey, 'tasks/get', { taskId: created['taskId'] }));
      assert.equal(done['status'], 'completed', JSON.stringify(done).slice(0, 500));
      const link = linkOf(done['result'], t.id, big.length + 2);
      assert.equal(await readText(await cluster.client(t.apiKey, 'modern'), link.uri!), `w:${big}`);
      assert.ok(JSON.stringify(done).length < 4_096, 'the task record holds the link, not the bytes');
    } finally {
      await worker.close();
      await cluster.stop();
      await upstream.close();
      const keys = await redis.keys(`${queuePrefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('object storage at gateway startup', function () {
  this.timeout(30_000);

  it('refuses to start with a clear error when BLOB_LOCAL_DIR cannot be created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'umcp-k-badblobs-'));
    try {
      await writeFile(join(dir, 'file'), 'not a directory');
      await assert.rejects(
        startCluster(1, { BLOB_LOCAL_DIR: join(dir, 'file', 'blobs') }),
        /BLOB_LOCAL_DIR: .*file\/blobs cannot be created or written \(ENOTDIR\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
}

describe('large tool results on the S3 backend (s3rver, through the gateway)', function () {
  this.timeout(60_000);

  it('stores the result in the bucket under the tenant prefix and reads it back', async () => {
    const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: Record<string, unknown>) => S3rverInstance;
    const dir = await mkdtemp(join(tmpdir(), 'umcp-k-s3rver-'));
    const port = await freePort();
    const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir });
    await server.run();
    const endpoint = `http://127.0.0.1:${port}`;
    const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
    let cluster: Cluster | undefined;
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'umcp-k' }));
      cluster = await startCluster(1, {
        LARGE_RESULT_BYTES: '2048',
        BLOB_BACKEND: 's3',
        BLOB_S3_BUCKET: 'umcp-k',
        BLOB_S3_PREFIX: 'gw/',
        BLOB_S3_ENDPOINT: endpoint,
        BLOB_S3_FORCE_PATH_STYLE: 'true',
      });
      const t = await cluster.tenant('acme', ['diagnostics']);
      const other = await cluster.tenant('globex', ['diagnostics']);
      const client = await cluster.client(t.apiKey, 'legacy');
      const big = 's'.repeat(9_000);
      const link = linkOf(await client.callTool({ name: 'diagnostics.echo', arguments: { text: big } }), t.id, 9_000);
      assert.equal(await readText(client, link.uri!), big);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'umcp-k', Prefix: `gw/tenants/${t.id}/results/` }));
      assert.equal(listed.KeyCount, 1);
      const stranger = await cluster.client(other.apiKey, 'modern');
      await assert.rejects(stranger.readResource({ uri: link.uri! }), /not found/i);
    } finally {
      await cluster?.stop();
      s3.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
