/** PostgreSQL store adapters and the pool/migration helpers they share. */
export { createPgPool, type PgPoolOptions } from './pool.js';
export { runMigrations, migrationsCurrent, loadMigrations, type Migration, type MigrationResult } from './migrate.js';
export { PgTenantStore, TENANT_NAME, isUuid } from './pg-tenant-store.js';
export { PgApiKeyStore, parseApiKey } from './pg-api-key-store.js';
export { PgAuditLog } from './pg-audit-log.js';
