/**
 * Large tool results by reference on a real local BlobStore: offloaded above the threshold, read back
 * as a stream by the same tenant only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBlobStore, blobUri, offloadIfLarge, openBlobResource, parseBlobUri } from '../../../service/src/store/blob/index.js';
import { NotFoundError } from '../../../service/src/store/ports.js';

describe('large results by reference', () => {
  let dir: string;
  let store: LocalBlobStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'umcp-f-results-'));
    store = new LocalBlobStore({ root: dir });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps small results inline and stores large ones as a resource link', async () => {
    assert.equal(await offloadIfLarge(store, 't1', 'small', { thresholdBytes: 10 }), null);
    const big = 'x'.repeat(5_000);
    const link = await offloadIfLarge(store, 't1', big, { thresholdBytes: 1_000, mimeType: 'application/json', name: 'search results' });
    assert.ok(link);
    assert.equal(link.type, 'resource_link');
    assert.equal(link.size, 5_000);
    assert.equal(link.mimeType, 'application/json');
    assert.match(link.uri, /^umcp-blob:\/\/t1\/results\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}$/);
    const obj = await openBlobResource(store, 't1', link.uri);
    let text = '';
    for await (const c of obj.body) text += String(c);
    assert.equal(text, big);
    assert.equal(obj.contentType, 'application/json');
  });

  it('answers another tenant exactly like a missing resource', async () => {
    const link = await offloadIfLarge(store, 't1', 'y'.repeat(2_000), { thresholdBytes: 1 });
    await assert.rejects(openBlobResource(store, 't2', link!.uri), NotFoundError);
    await assert.rejects(openBlobResource(store, 't2', link!.uri.replace('//t1/', '//t2/')), NotFoundError);
    await assert.rejects(openBlobResource(store, 't1', 'umcp-blob://t1/../t2/x'), NotFoundError);
    await assert.rejects(openBlobResource(store, 't1', 'file:///etc/passwd'), NotFoundError);
  });

  it('round-trips URIs with nested keys', () => {
    assert.deepEqual(parseBlobUri(blobUri('t9', 'a b/c')), { tenantId: 't9', key: 'a b/c' });
    assert.equal(parseBlobUri('umcp-blob://t9/'), null);
  });
});
