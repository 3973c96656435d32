import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runWithLogContext, currentLogContext } from '../../../service/src/log/context.js';
import { createLogger } from '../../../service/src/log/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination, base: { service: 'test' } }) };
}

describe('logger', () => {
  it('writes JSON lines with level, time and static fields', () => {
    const { lines, logger } = capture();
    logger.info({ tool: 'echo' }, 'tool called');
    assert.equal(lines[0]!.level, 'info');
    assert.equal(lines[0]!.msg, 'tool called');
    assert.equal(lines[0]!.service, 'test');
    assert.equal(lines[0]!.tool, 'echo');
    assert.match(String(lines[0]!.time), /^\d{4}-\d\d-\d\dT/);
  });

  it('merges requestId and tenantId from the async context, including values set later', async () => {
    const { lines, logger } = capture();
    await runWithLogContext({ requestId: 'req-1' }, async () => {
      await new Promise((r) => setImmediate(r));
      currentLogContext()!.tenantId = 'tenant-1';
      logger.warn('inside');
    });
    logger.warn('outside');
    assert.equal(lines[0]!.requestId, 'req-1');
    assert.equal(lines[0]!.tenantId, 'tenant-1');
    assert.equal(lines[1]!.requestId, undefined);
  });

  it('redacts credentials wherever they are logged', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        headers: { authorization: 'Bearer umcp_abc_secret', cookie: 'sid=1' },
        req: { headers: { authorization: 'Bearer x' } },
        apiKey: 'umcp_abc_def',
        config: { ADMIN_TOKEN: 'admin-secret', DATABASE_URL: 'postgres://u:pw@h/db' },
        password: 'pw',
        user: { token: 't', secret: 's' },
      },
      'request',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['umcp_abc_secret', 'sid=1', 'Bearer x', 'umcp_abc_def', 'admin-secret', 'u:pw@', '"pw"', '"t"', '"s"']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.ok(text.includes('[redacted]'));
  });
});
