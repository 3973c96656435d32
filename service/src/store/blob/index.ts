/** Object storage: the BlobStore port, its adapters (local directory, S3) and the config-driven factory. */
export * from './blob-store.js';
export { LocalBlobStore, type LocalBlobStoreOptions } from './local-blob-store.js';
export { S3BlobStore, type S3BlobStoreOptions } from './s3-blob-store.js';
export { createBlobStore, BlobConfigSchema, type BlobConfig } from './create-blob-store.js';
export { BLOB_URI_SCHEME, blobUri, parseBlobUri, offloadIfLarge, openBlobResource, type ResourceLink, type OffloadOptions } from './large-results.js';
