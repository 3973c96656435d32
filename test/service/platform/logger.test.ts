import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
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

  it("keeps a driver's objects off the line: pg-pool's err.client, sockets, URL passwords (issue 18)", () => {
    const { lines, logger } = capture();
    // What pg-pool emits when PostgreSQL ends an idle connection: the error with the whole client attached.
    const client = new pg.Client({ connectionString: 'postgres://postgres:pg-secret-pw@127.0.0.1:5999/umcp' });
    const err = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL', client });
    logger.warn({ err }, 'idle PostgreSQL connection failed');
    const wrapped = new Error('connect failed for postgres://app:url-secret@db.internal:5432/x', {
      cause: new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED', socket: new Socket() })], 'all addresses failed'),
    });
    logger.error({ err: wrapped, target: { url: 'redis://:redis-secret@127.0.0.1:6379/0' } }, 'startup failed for redis://:msg-secret@h:1');
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of ['pg-secret-pw', 'url-secret', 'redis-secret', 'msg-secret']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    const first = JSON.stringify(lines[0]);
    assert.ok(first.length < 2_000, `${first.length} characters: ${first.slice(0, 500)}`);
    const e0 = lines[0]!.err as Record<string, unknown>;
    assert.equal(e0.client, '[Client]');
    assert.equal(e0.code, '57P01');
    assert.equal(e0.message, 'terminating connection due to administrator command');
    const e1 = lines[1]!.err as { message: string; cause: { errors: { code: string; socket: string }[] } };
    assert.equal(e1.message, 'connect failed for postgres://app:[redacted]@db.internal:5432/x');
    assert.equal(e1.cause.errors[0]!.code, 'ECONNREFUSED');
    assert.equal(e1.cause.errors[0]!.socket, '[Socket]');
    assert.equal(lines[1]!.msg, 'startup failed for redis://:[redacted]@h:1');
  });
});
