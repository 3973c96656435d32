/**
 * PostgreSQL + Redis for the test run. TEST_DATABASE_URL / TEST_REDIS_URL win; else the servers on
 * 127.0.0.1 when reachable; else embedded ones (TODO: service foundation fills in the embedded fallback).
 */
export interface TestServices { databaseUrl: string; redisUrl: string; stop(): Promise<void> }

export async function provisionTestServices(env: NodeJS.ProcessEnv = process.env): Promise<TestServices> {
  return {
    databaseUrl: env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl: env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    stop: async () => {},
  };
}
