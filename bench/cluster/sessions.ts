/**
 * RSS growth of one gateway per 1,000 idle 2025-era sessions: sessions live in Redis, so the process
 * should not grow with them. Opens sessions (initialize + notifications/initialized) against one replica
 * directly, in rounds of 1,000 after a warm-up, and compares memory before and after each round, each
 * time after a forced full GC through the inspector (so garbage not yet collected does not count); also
 * reports the Redis memory they take, to show where they live.
 */
import { Redis } from 'ioredis';
import { request } from 'undici';
import type { Inspector } from './inspector.js';

async function openSession(url: string, key: string): Promise<void> {
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const res = await request(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'umcp-bench', version: '1' } },
    }),
  });
  await res.body.text();
  const sid = res.headers['mcp-session-id'];
  if (res.statusCode !== 200 || typeof sid !== 'string') throw new Error(`initialize: HTTP ${res.statusCode}`);
  const ack = await request(url, {
    method: 'POST',
    headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await ack.body.text();
}

async function openMany(url: string, key: string, n: number, concurrency = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        await openSession(url, key);
      }
    }),
  );
}

async function redisUsedBytes(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
}

/** Result of the session rounds. */
export interface SessionGrowth {
  rounds: { rssBeforeMb: number; rssAfterMb: number; kbPer1000: number; heapKbPer1000: number }[];
  /** Median RSS growth (after GC) per 1,000 sessions. */
  medianKbPer1000: number;
  /** Median V8 heap growth (after GC) per 1,000 sessions. */
  medianHeapKbPer1000: number;
  sessionsInRedis: number;
  redisBytesPerSession: number;
}

/** Warm-up of 200 sessions, then `rounds` rounds of 1,000. */
export async function sessionGrowth(mcpUrl: string, key: string, inspector: Inspector, redisUrl: string, rounds = 3): Promise<SessionGrowth> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    await openMany(mcpUrl, key, 200);
    const out: SessionGrowth['rounds'] = [];
    const redisBefore = await redisUsedBytes(redis);
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
    for (let r = 0; r < rounds; r++) {
      await new Promise((res) => setTimeout(res, 500));
      const before = await inspector.memoryAfterGc();
      await openMany(mcpUrl, key, 1000);
      await new Promise((res) => setTimeout(res, 500));
      const after = await inspector.memoryAfterGc();
      out.push({
        rssBeforeMb: mb(before.rss),
        rssAfterMb: mb(after.rss),
        kbPer1000: Math.round((after.rss - before.rss) / 1024),
        heapKbPer1000: Math.round((after.heapUsed - before.heapUsed) / 1024),
      });
    }
    const redisAfter = await redisUsedBytes(redis);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return {
      rounds: out,
      medianKbPer1000: median(out.map((o) => o.kbPer1000)),
      medianHeapKbPer1000: median(out.map((o) => o.heapKbPer1000)),
      sessionsInRedis: await redis.zcard('umcp:legacy:active'),
      redisBytesPerSession: Math.round((redisAfter - redisBefore) / (rounds * 1000)),
    };
  } finally {
    redis.disconnect();
  }
}
