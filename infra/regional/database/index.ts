export { Database, checkDatabaseArgs, type DatabaseArgs } from './database.js';
export type { ShardEndpoints } from './shard.js';
