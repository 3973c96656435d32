/**
 * Builds the BlobStore from BLOB_* settings (documented in docs/data-layer.md): a local directory by
 * default, S3 when BLOB_BACKEND=s3.
 */
import { z } from 'zod';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** BLOB_* keys; merged into the service config by the composition root. */
export const BlobConfigSchema = z.object({
  BLOB_BACKEND: z.enum(['local', 's3']).default('local').describe('Object storage for tenant files and large tool results: `local` directory or `s3`.'),
  BLOB_LOCAL_DIR: z.string().min(1).default('./.data/blobs').describe('Directory of the local backend.'),
  BLOB_S3_BUCKET: z.string().min(3).optional().describe('Bucket of the s3 backend (required with BLOB_BACKEND=s3).'),
  BLOB_S3_PREFIX: z.string().default('').describe('Prefix of every object name in the bucket, e.g. `umcp/`.'),
  BLOB_S3_REGION: z.string().min(1).default('us-east-1').describe('Region of the bucket.'),
  BLOB_S3_ENDPOINT: z.url().optional().describe('Endpoint of an S3-compatible server (MinIO, R2, s3rver); default: AWS.'),
  BLOB_S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Path-style URLs (needed by most S3-compatible servers).'),
  BLOB_RETENTION_DAYS: z.coerce.number().min(0).default(0).describe('Delete objects older than this many days (0 keeps them forever).'),
});
/** Parsed BLOB_* settings. */
export type BlobConfig = z.output<typeof BlobConfigSchema>;

/** The BlobStore the settings ask for; credentials come from the AWS default chain. */
export function createBlobStore(config: BlobConfig): BlobStore {
  const retention = { maxAgeMs: config.BLOB_RETENTION_DAYS > 0 ? config.BLOB_RETENTION_DAYS * 86_400_000 : null };
  if (config.BLOB_BACKEND === 'local') return new LocalBlobStore({ root: config.BLOB_LOCAL_DIR, retention });
  if (!config.BLOB_S3_BUCKET) throw new Error('BLOB_S3_BUCKET: required when BLOB_BACKEND=s3');
  return new S3BlobStore({
    bucket: config.BLOB_S3_BUCKET,
    prefix: config.BLOB_S3_PREFIX,
    retention,
    client: {
      region: config.BLOB_S3_REGION,
      endpoint: config.BLOB_S3_ENDPOINT,
      forcePathStyle: config.BLOB_S3_FORCE_PATH_STYLE,
      // Only send checksums when an operation needs them: many S3-compatible servers reject the new defaults.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
  });
}
