export { Storage, checkStorageArgs, type StorageArgs } from './storage.js';
