/**
 * Config keys of the object-storage wiring (the BLOB_* backend keys are in create-blob-store.ts): the
 * size above which tool results go to object storage, and the retention purge schedule. Merged into the
 * service config by service/src/config.ts; documented in docs/service.md and docs/data-layer.md.
 */
import { z } from 'zod';

/** LARGE_RESULT_BYTES and BLOB_PURGE_INTERVAL_MS. */
export const ObjectStorageWiringSchema = z.object({
  LARGE_RESULT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(256 * 1024)
    .describe(
      'Tool results whose serialized JSON is larger than this (bytes) are stored in object storage and returned as a `resource_link` that only the same tenant can read (resources/read).',
    ),
  BLOB_PURGE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(7 * 86_400_000)
    .default(3_600_000)
    .describe('How often the object-storage retention purge runs (ms); one replica at a time (Redis lock). Only with BLOB_RETENTION_DAYS > 0.'),
});

/** Parsed wiring keys. */
export type ObjectStorageWiringConfig = z.output<typeof ObjectStorageWiringSchema>;
