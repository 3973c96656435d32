import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { isAlive } from '../../../service/src/local/process-util.js';
import { LOCAL_DEFAULT_PORT } from '../../../service/src/local/port-check.js';
import { createTestDatabase } from '../../support/platform-db.js';
import { rawRequest } from '../../support/platform-http.js';
import { OutputReader } from '../../support/child-output.js';

const TSX = join(process.cwd(), 'node_modules/.bin/tsx');

interface Started {
  child: ChildProcess;
  lines: Record<string, string>;
  stdout: () => string;
}

/**
 * Runs `npm start`'s entry with a clean environment (no DATABASE_URL/REDIS_URL) until it prints its last
 * startup line (`Ready. ...`, written after the MCP_URL/API_KEY/ADMIN_URL/ADMIN_TOKEN lines, possibly in a
 * later chunk), or fails with the output so far when the child exits or the timeout passes first.
 */
async function startLocal(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Started> {
  const child = spawn(TSX, ['service/src/local/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, UMCP_DATA_DIR: dataDir, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const err = new OutputReader(child.stderr!);
  const out = new OutputReader(child.stdout!, () => `stderr so far:\n${err.output}${child.exitCode !== null ? `\nexit code ${child.exitCode}` : ''}`);
  try {
    await out.waitFor(/^Ready\. .*\n/m, 100_000);
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGTERM');
    throw e;
  }
  const lines = Object.fromEntries(
    out.output
      .split('\n')
      .filter((l) => /^(MCP_URL|API_KEY|ADMIN_URL|ADMIN_TOKEN)=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { child, lines, stdout: () => out.output };
}

async function stop(s: Started): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  s.child.kill('SIGTERM');
  const [code] = (await once(s.child, 'exit')) as [number | null];
  return code;
}

describe('npm start (local platform, end to end)', function () {
  this.timeout(120_000);
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'umcp-local-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts embedded PostgreSQL + a redis-server child and prints the four lines', async () => {
    const s = await startLocal(dataDir, { PORT: '0' });
    try {
      assert.match(s.lines.MCP_URL!, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      assert.match(s.lines.API_KEY!, /^umcp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      assert.equal(s.lines.ADMIN_URL, s.lines.MCP_URL!.replace(/\/mcp$/, ''));
      assert.ok(s.lines.ADMIN_TOKEN!.length >= 16);
      assert.match(s.stdout(), /PostgreSQL ready/);
      assert.match(s.stdout(), /Ready\. Tenant "demo"/);
      assert.equal(statSync(join(dataDir, 'demo-credentials.json')).mode & 0o777, 0o600);
      assert.equal(statSync(join(dataDir, 'local-secrets.json')).mode & 0o777, 0o600);

      // The printed key works with a real MCP client against the real endpoint.
      const client = new Client({ name: 'local-start-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(s.lines.MCP_URL!), { requestInit: { headers: { authorization: `Bearer ${s.lines.API_KEY}` } } }),
      );
      const tools = await client.listTools();
      assert.ok(tools.tools.length > 0);
      await client.close();
      const tenants = await rawRequest(`${s.lines.ADMIN_URL}/admin/v1/tenants`, { headers: { authorization: `Bearer ${s.lines.ADMIN_TOKEN}` } });
      assert.deepEqual(
        tenants.json<{ tenants: { name: string; toolsets: string[] }[] }>().tenants.map((t) => [t.name, t.toolsets]),
        [['demo', ['platform', 'diagnostics']]],
      );
    } finally {
      const redisPid = Number(readFileSync(join(dataDir, 'redis.pid'), 'utf8'));
      assert.equal(await stop(s), 0);
      assert.equal(isAlive(redisPid), false, 'SIGTERM stopped the redis-server child');
      assert.equal(existsSync(join(dataDir, 'pg', 'postmaster.pid')), false, 'SIGTERM stopped PostgreSQL');
    }
  });

  it('reuses the data on a second start: same API key and admin token, TOOLSETS applied', async () => {
    const first = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8')) as { apiKey: string };
    const s = await startLocal(dataDir, { TOOLSETS: 'conformance', PORT: '0' });
    try {
      assert.equal(s.lines.API_KEY, first.apiKey);
      const secrets = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { adminToken: string };
      assert.equal(s.lines.ADMIN_TOKEN, secrets.adminToken);
      const demo = await rawRequest(`${s.lines.ADMIN_URL}/admin/v1/tenants/demo`, { headers: { authorization: `Bearer ${s.lines.ADMIN_TOKEN}` } });
      assert.deepEqual(demo.json<{ tenant: { toolsets: string[] } }>().tenant.toolsets, ['conformance']);
    } finally {
      assert.equal(await stop(s), 0);
    }
  });

  it('a second start on the same data directory stops at once with one line; the first keeps its PostgreSQL and Redis', async () => {
    const first = await startLocal(dataDir, { PORT: '0' });
    try {
      const second = spawn(TSX, ['service/src/local/main.ts'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, UMCP_DATA_DIR: dataDir, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      second.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(second, 'exit')) as [number];
      assert.equal(code, 1);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0]!, new RegExp(`^another npm start \\(pid \\d+\\) is using the data directory .*UMCP_DATA_DIR=<dir>$`));
      // The first one still answers with its stores (a tools/call reaches PostgreSQL for the key, Redis for limits).
      const whoami = await rawRequest(first.lines.MCP_URL!, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${first.lines.API_KEY}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'platform.whoami',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name: 'platform.whoami',
            arguments: {},
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        }),
      });
      assert.equal(whoami.status, 200, whoami.body);
      assert.match(whoami.body, /tenant\W{1,6}demo/);
    } finally {
      assert.equal(await stop(first), 0);
    }
    assert.ok(!existsSync(join(dataDir, 'npm-start.pid')), 'the lock is given back on stop');
  });

  it('uses DATABASE_URL when set and exits 1 with one clear line when redis-server is missing', async () => {
    const db = await createTestDatabase();
    const bin = mkdtempSync(join(tmpdir(), 'umcp-nobin-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    try {
      const child = spawn(TSX, ['service/src/local/main.ts'], {
        env: { PATH: bin, HOME: process.env.HOME, UMCP_DATA_DIR: dataDir, DATABASE_URL: db.url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 1);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0]!, /^redis-server not found on PATH: install Redis .* or set REDIS_URL=/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('refuses ANONYMOUS_TENANT with a non-loopback HOST and unknown TOOLSETS, naming the key', async () => {
    const db = await createTestDatabase();
    const run = async (env: Record<string, string>) => {
      const child = spawn(TSX, ['service/src/local/main.ts'], {
        env: {
          PATH: process.env.PATH,
          UMCP_DATA_DIR: dataDir,
          PORT: '0',
          DATABASE_URL: db.url,
          REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(child, 'exit')) as [number];
      return { code, stderr };
    };
    try {
      const anon = await run({ HOST: '0.0.0.0', ANONYMOUS_TENANT: 'demo' });
      assert.equal(anon.code, 1);
      assert.match(anon.stderr, /ANONYMOUS_TENANT: refused because HOST=0\.0\.0\.0 is not a loopback address/);
      const toolsets = await run({ TOOLSETS: 'platform,nope' });
      assert.equal(toolsets.code, 1);
      assert.match(toolsets.stderr, /TOOLSETS: unknown toolset\(s\): nope/);
    } finally {
      await db.drop();
    }
  });

  describe('port', () => {
    /** Binds 127.0.0.1:port for the test, or returns undefined when something else already holds it. */
    const hold = async (port: number): Promise<Server | undefined> => {
      const srv = createServer();
      try {
        srv.listen(port, '127.0.0.1');
        await once(srv, 'listening');
        return srv;
      } catch {
        return undefined;
      }
    };
    const external = () => ({ DATABASE_URL: '', REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' });

    it('listens on 8080 when PORT is unset, so saved client configs keep working across starts', async function () {
      const probe = await hold(LOCAL_DEFAULT_PORT);
      if (!probe) this.skip(); // something else on this machine holds 8080 right now
      await new Promise((r) => probe!.close(r));
      const db = await createTestDatabase();
      try {
        const s = await startLocal(dataDir, { ...external(), DATABASE_URL: db.url });
        try {
          assert.equal(s.lines.MCP_URL, `http://127.0.0.1:${LOCAL_DEFAULT_PORT}/mcp`);
        } finally {
          assert.equal(await stop(s), 0);
        }
      } finally {
        await db.drop();
      }
    });

    it('a taken 8080 stops the start with one line naming the port and PORT=0, before anything starts', async () => {
      const held = await hold(LOCAL_DEFAULT_PORT); // undefined: another process holds it, same outcome
      const db = await createTestDatabase();
      try {
        const child = spawn(TSX, ['service/src/local/main.ts'], {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, UMCP_DATA_DIR: dataDir, ...external(), DATABASE_URL: db.url },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
        const [code] = (await once(child, 'exit')) as [number];
        assert.equal(code, 1);
        const lines = stderr.trim().split('\n');
        assert.equal(lines.length, 1, stderr);
        assert.match(lines[0]!, /^port 8080 on 127\.0\.0\.1 is already in use .*PORT=<port> \(PORT=0 picks any free port\)$/);
      } finally {
        held?.close();
        await db.drop();
      }
    });
  });
});
