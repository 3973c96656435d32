/**
 * Child-process entry for the crash test: starts one replica (REDIS_URL, KEY_PREFIX, REPLICA_ID from the
 * environment), prints `READY <url>` and runs until killed.
 */
import { startReplica } from './replica.js';

const replica = await startReplica({
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  keyPrefix: process.env.KEY_PREFIX ?? 'umcp-test:',
  replicaId: process.env.REPLICA_ID ?? 'child',
});
process.stdout.write(`READY ${replica.url}\n`);
