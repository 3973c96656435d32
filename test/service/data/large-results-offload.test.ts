/**
 * offloadToolResult / readStoredResult on a real local BlobStore: what is stored for which result shape,
 * what stays inline, non-final results untouched, and a failing store degrading to the inline result.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { largeResultMetrics, offloadToolResult, readStoredResult, type LargeResultsDeps } from '../../../service/src/mcp/large-results.js';
import { LocalBlobStore } from '../../../service/src/store/blob/index.js';

type Item = { type: string; text?: string; uri?: string; mimeType?: string; size?: number };

describe('offloadToolResult', () => {
  let dir: string;
  let deps: LargeResultsDeps;
  let registry: Registry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'umcp-k-offload-'));
    registry = new Registry();
    deps = { store: new LocalBlobStore({ root: dir }), thresholdBytes: 1024, metrics: largeResultMetrics(registry) };
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const linkIn = (r: unknown): Item => {
    const content = (r as { content: Item[] }).content;
    assert.equal(content.length, 2);
    assert.equal(content[1]!.type, 'resource_link');
    return content[1]!;
  };

  it('stores mixed content as the JSON of the result and reads it back as application/json', async () => {
    const result = {
      content: [
        { type: 'text', text: 'a'.repeat(800) },
        { type: 'image', data: Buffer.alloc(600, 1).toString('base64'), mimeType: 'image/png' },
      ],
      isError: false,
    };
    const out = await offloadToolResult(result, 't1', deps, 'pics');
    const link = linkIn(out);
    assert.equal(link.mimeType, 'application/json');
    assert.equal((out as { isError: boolean }).isError, false, 'other result fields stay');
    const read = await readStoredResult(link.uri!, 't1', deps);
    assert.deepEqual(JSON.parse((read.contents[0] as { text: string }).text), { content: result.content });
  });

  it('keeps structuredContent inline while it fits, else only in the stored object', async () => {
    const small = { content: [{ type: 'text', text: 'b'.repeat(2_000) }], structuredContent: { n: 1 } };
    const keep = (await offloadToolResult(small, 't1', deps)) as { structuredContent?: unknown };
    linkIn(keep);
    assert.deepEqual(keep.structuredContent, { n: 1 });

    const large = { content: [{ type: 'text', text: 'c' }], structuredContent: { rows: 'd'.repeat(2_000) } };
    const drop = (await offloadToolResult(large, 't1', deps)) as { structuredContent?: unknown };
    assert.equal(drop.structuredContent, undefined);
    const read = await readStoredResult(linkIn(drop).uri!, 't1', deps);
    assert.deepEqual(JSON.parse((read.contents[0] as { text: string }).text).structuredContent, large.structuredContent);
  });

  it('leaves small, task-created and input-required results alone', async () => {
    const small = { content: [{ type: 'text', text: 'ok' }] };
    assert.equal(await offloadToolResult(small, 't1', deps), small);
    const task = { resultType: 'task', taskId: 'x', status: 'working', statusMessage: 'e'.repeat(2_000) };
    assert.equal(await offloadToolResult(task, 't1', deps), task);
    const input = { resultType: 'input_required', inputRequests: { a: { method: 'elicitation/create', params: { message: 'f'.repeat(2_000) } } } };
    assert.equal(await offloadToolResult(input, 't1', deps), input);
  });

  it('sends the result inline and counts it when the store fails', async () => {
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    const broken: LargeResultsDeps = { ...deps, store: new LocalBlobStore({ root: file }) };
    const result = { content: [{ type: 'text', text: 'g'.repeat(5_000) }] };
    assert.equal(await offloadToolResult(result, 't1', broken), result);
    const metrics = await registry.getSingleMetricAsString('umcp_large_results_total');
    assert.match(metrics, /outcome="inline"\} 1/);
  });

  it('returns non-text objects as base64 blobs', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    await deps.store.put('t1', 'files/a.png', png, { contentType: 'image/png' });
    const read = await readStoredResult('umcp-blob://t1/files/a.png', 't1', deps);
    assert.deepEqual(read.contents, [{ uri: 'umcp-blob://t1/files/a.png', mimeType: 'image/png', blob: png.toString('base64') }]);
    await assert.rejects(readStoredResult('umcp-blob://t1/files/a.png', 't2', deps), /Resource not found/);
  });
});
