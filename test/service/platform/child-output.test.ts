import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { OutputReader } from '../../support/child-output.js';

describe('OutputReader (waiting for a child process line)', () => {
  it('waits for a line written in a later chunk than the one that was awaited before', async () => {
    const stream = new PassThrough();
    const reader = new OutputReader(stream);
    stream.write('MCP_URL=http://127.0.0.1:1/mcp\nADMIN_TOKEN=abc\n');
    await reader.waitFor(/^ADMIN_TOKEN=.*\n/m, 5_000);
    const ready = reader.waitFor(/^Ready\. .*\n/m, 5_000);
    setImmediate(() => stream.write('Ready. Tenant "demo"'));
    setImmediate(() => setImmediate(() => stream.write(' answers\nAdmin CLI: ...\n')));
    const m = await ready;
    assert.equal(m[0], 'Ready. Tenant "demo" answers\n');
    assert.match(reader.output, /^Admin CLI/m);
  });

  it('rejects with the output so far when the stream ends first', async () => {
    const stream = new PassThrough();
    const reader = new OutputReader(stream, () => 'stderr: boom');
    const waiting = reader.waitFor(/^Ready\./m, 5_000);
    stream.end('ADMIN_TOKEN=abc\n');
    await assert.rejects(waiting, (err: Error) => {
      assert.match(err.message, /stream ended before the output matched/);
      assert.match(err.message, /ADMIN_TOKEN=abc/);
      assert.match(err.message, /stderr: boom/);
      return true;
    });
  });

  it('rejects with the output so far on timeout', async () => {
    const stream = new PassThrough();
    const reader = new OutputReader(stream);
    stream.write('PostgreSQL ready\n');
    await assert.rejects(reader.waitFor(/^Ready\./m, 20), /timed out after 20 ms before the output matched .*\n[^]*PostgreSQL ready/);
    stream.end();
  });
});
