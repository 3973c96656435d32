/**
 * No log line carries a secret (issue 18): `npm start`'s entry runs with known secrets (admin token, master
 * key, request-state key, the embedded PostgreSQL's password, an upstream's bearer token) at LOG_LEVEL=debug,
 * serves real traffic (MCP calls, a wrong key, a failing upstream, admin calls), and is stopped the way
 * Ctrl+C stops it: SIGINT to the whole process group, so PostgreSQL and redis-server get it at the same
 * moment as the gateway and its pooled connections die under it. Every line it wrote, stdout and stderr,
 * is then searched for each secret, and the output stays small. On the way, PostgreSQL ends the gateway's
 * idle connections (pg-pool attaches the whole pg.Client to that error), and the run still logs it safely (a pg client object dumped on shutdown was
 * ~5 KB with its connection parameters).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import pg from 'pg';
import { OutputReader } from '../../support/child-output.js';
import { parseApiKey } from '../../../service/src/store/pg/pg-api-key-store.js';

const TSX = join(process.cwd(), 'node_modules/.bin/tsx');

describe('secrets never reach a log line (a full npm start run, stopped with Ctrl+C)', function () {
  this.timeout(120_000);
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'umcp-redact-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('logs none of the secrets it was given or made, at debug level, through traffic and shutdown', async () => {
    const secrets: Record<string, string> = {
      ADMIN_TOKEN: `adm-${randomBytes(16).toString('hex')}`,
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      REQUEST_STATE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    };
    const upstreamBearer = `upstream-bearer-${randomBytes(12).toString('hex')}`;
    const child = spawn(TSX, ['service/src/local/main.ts'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, UMCP_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'debug', ...secrets },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a terminal's foreground job
    });
    const err = new OutputReader(child.stderr!);
    const out = new OutputReader(child.stdout!, () => `stderr so far:\n${err.output}`);
    const exited = once(child, 'exit');
    let apiKey = '';
    try {
      await out.waitFor(/^Ready\. .*\n/m, 100_000);
      const line = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out.output)![1]!;
      apiKey = line('API_KEY');
      const mcpUrl = line('MCP_URL');
      const adminUrl = line('ADMIN_URL');
      const admin = (method: string, path: string, body?: unknown) =>
        fetch(`${adminUrl}/admin/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}`, 'content-type': 'application/json' },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });

      // Traffic: calls, a failing upstream holding a credential, a refused key, a wrong admin token.
      const client = new Client({ name: 'redaction-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${apiKey}` } } }));
      await client.listTools();
      await client.callTool({ name: 'diagnostics.echo', arguments: { text: 'hello' } });
      const reg = await admin('POST', '/tenants/demo/upstreams', { name: 'down', url: 'http://127.0.0.1:1/mcp', credentials: { bearer: upstreamBearer } });
      assert.equal(reg.status, 201, await reg.text());
      await admin('POST', '/tenants/demo/upstreams/down/test');
      await client.callTool({ name: 'down__anything', arguments: {} }).catch(() => undefined);
      await admin('DELETE', '/tenants/demo/upstreams/down');
      await client.close();
      const wrongKey = `${apiKey.slice(0, -6)}XXXXXX`;
      await fetch(mcpUrl, { method: 'POST', headers: { authorization: `Bearer ${wrongKey}`, 'content-type': 'application/json' }, body: '{}' });
      await fetch(`${adminUrl}/admin/v1/tenants`, { headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}-wrong` } });

      // PostgreSQL ends the gateway's idle pooled connections (as a failover or an operator would): pg-pool
      // reports each with the whole pg.Client attached to the error, connection parameters included.
      const pgPort = /PostgreSQL ready on 127\.0\.0\.1:(\d+)/.exec(out.output)![1]!;
      const pgPassword = (JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { pgPassword: string }).pgPassword;
      const killer = new pg.Client({ host: '127.0.0.1', port: Number(pgPort), user: 'postgres', password: pgPassword, database: 'postgres' });
      await killer.connect();
      try {
        const { rowCount } = await killer.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'umcp-%' AND state = 'idle' AND pid <> pg_backend_pid()",
        );
        assert.ok(rowCount! > 0, 'the gateway had idle pooled connections to end');
      } finally {
        await killer.end();
      }
      await err.waitFor(/idle PostgreSQL connection failed/, 10_000);
      const again = new Client({ name: 'redaction-test', version: '1' });
      await again.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${apiKey}` } } }));
      await again.callTool({ name: 'diagnostics.echo', arguments: { text: 'after the reconnect' } });
      await again.close();

      // Ctrl+C: SIGINT to the whole foreground process group.
      process.kill(-child.pid!, 'SIGINT');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, `stderr:\n${err.output}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }

    const pgPassword = (JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { pgPassword: string }).pgPassword;
    const pgPort = /PostgreSQL ready on 127\.0\.0\.1:(\d+)/.exec(out.output)![1]!;
    const needles: Record<string, string> = {
      ...secrets,
      'request-state key secret': secrets.REQUEST_STATE_KEYS!.slice(3),
      'the PostgreSQL password': pgPassword,
      'the upstream bearer token': upstreamBearer,
      // The secret is base64url, `_` included: split('_')[2] was sometimes a few characters found in a temp path.
      'the API key secret': parseApiKey(apiKey)!.secret,
    };
    // The four startup lines print the API key and admin token on purpose (stdout, for the user to copy);
    // every other line, and every line on stderr, must not carry any secret.
    const printed = /^(MCP_URL|API_KEY|ADMIN_URL|ADMIN_TOKEN)=/;
    const lines = [...out.output.split('\n').filter((l) => !printed.test(l)), ...err.output.split('\n')].filter(Boolean);
    assert.ok(lines.length > 10, `a debug run logs (got ${lines.length} lines)`);
    for (const l of lines) {
      for (const [name, value] of Object.entries(needles)) assert.ok(!l.includes(value), `${name} leaked in: ${l.slice(0, 2000)}`);
      assert.doesNotMatch(l, /postgres(ql)?:\/\/[^@\s"]*:[^@\s"]*@/, `a connection string with a password in: ${l.slice(0, 2000)}`);
      assert.ok(l.length < 4_000, `a ${l.length}-character log line (an object dump?): ${l.slice(0, 500)}`);
      assert.ok(!l.includes('connectionParameters') && !l.includes(`"port":${pgPort}`), `a pg client's connection parameters in: ${l.slice(0, 2000)}`);
    }
  });
});
