import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { allowedHosts, allowedOrigins, ConfigError, describeConfig, loadConfig } from '../../../service/src/config.js';

const MINIMAL = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  REQUEST_STATE_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return [...err.issues];
  }
  assert.fail('loadConfig accepted an invalid environment');
}

describe('config', () => {
  describe('loadConfig', () => {
    it('applies the documented defaults to a minimal environment', () => {
      const c = loadConfig(MINIMAL);
      assert.equal(c.PORT, 8080);
      assert.equal(c.HOST, '0.0.0.0');
      assert.equal(c.REDIS_KEY_PREFIX, 'umcp:');
      assert.deepEqual(c.TOOLSETS, ['platform', 'diagnostics']);
      assert.equal(c.RATE_LIMIT_PER_MINUTE, 600);
      assert.equal(c.LOG_LEVEL, 'info');
      assert.equal(c.REQUEST_STATE_KEYS.length, 1);
    });

    it('treats empty strings as unset and parses lists and numbers', () => {
      const c = loadConfig({ ...MINIMAL, PORT: '0', ADMIN_TOKEN: '', TOOLSETS: ' platform , conformance ' });
      assert.equal(c.PORT, 0);
      assert.equal(c.ADMIN_TOKEN, undefined);
      assert.deepEqual(c.TOOLSETS, ['platform', 'conformance']);
    });

    it('names every missing required key, one line each', () => {
      const issues = issuesOf({});
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'REQUEST_STATE_KEYS']) {
        assert.ok(
          issues.some((i) => i.startsWith(`${key}: required`)),
          `${key} not reported: ${issues.join(' | ')}`,
        );
      }
    });

    it('names each bad key with what was expected', () => {
      const issues = issuesOf({
        ...MINIMAL,
        PORT: '70000',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://x',
        ADMIN_TOKEN: 'short',
        SECRETS_MASTER_KEY: 'abc',
        RATE_LIMIT_PER_MINUTE: 'many',
        PUBLIC_URL: 'ftp://x',
      });
      const byKey = new Map(issues.map((i) => [i.split(':')[0], i]));
      assert.match(byKey.get('PORT')!, /65535.*"70000"/);
      assert.match(byKey.get('LOG_LEVEL')!, /one of .*"info".*"loud"/);
      assert.match(byKey.get('DATABASE_URL')!, /postgres:\/\/ URL/);
      assert.match(byKey.get('ADMIN_TOKEN')!, /at least 16 characters/);
      assert.match(byKey.get('SECRETS_MASTER_KEY')!, /32 bytes/);
      assert.match(byKey.get('RATE_LIMIT_PER_MINUTE')!, /number/);
      assert.match(byKey.get('PUBLIC_URL')!, /http\(s\) URL/);
      assert.equal(issues.length, 7, issues.join('\n'));
    });

    it('never echoes secret values in messages', () => {
      const msg = issuesOf({ ...MINIMAL, ADMIN_TOKEN: 'sekrit-value' }).join('\n');
      assert.ok(!msg.includes('sekrit-value'));
      assert.match(msg, /ADMIN_TOKEN: .*\(value hidden\)/);
    });

    it('refuses ANONYMOUS_TENANT unless HOST is loopback', () => {
      assert.match(issuesOf({ ...MINIMAL, ANONYMOUS_TENANT: 'demo', HOST: '0.0.0.0' })[0]!, /^ANONYMOUS_TENANT: refused.*loopback/);
      assert.equal(loadConfig({ ...MINIMAL, ANONYMOUS_TENANT: 'demo', HOST: '127.0.0.1' }).ANONYMOUS_TENANT, 'demo');
    });

    it('requires OAUTH_ISSUER and OAUTH_JWKS_URL together', () => {
      assert.match(issuesOf({ ...MINIMAL, OAUTH_ISSUER: 'https://issuer.example' })[0]!, /^OAUTH_JWKS_URL: required when OAUTH_ISSUER/);
      assert.match(issuesOf({ ...MINIMAL, OAUTH_JWKS_URL: 'https://issuer.example/jwks' })[0]!, /^OAUTH_ISSUER: required when OAUTH_JWKS_URL/);
      const oauth = { ...MINIMAL, OAUTH_ISSUER: 'https://issuer.example', OAUTH_JWKS_URL: 'https://issuer.example/jwks' };
      assert.match(issuesOf(oauth)[0]!, /^OAUTH_AUDIENCE: required with OAUTH_ISSUER when PUBLIC_URL is not set/);
      assert.equal(loadConfig({ ...oauth, PUBLIC_URL: 'https://mcp.example.com' }).OAUTH_ISSUER, 'https://issuer.example');
      assert.equal(loadConfig({ ...oauth, OAUTH_AUDIENCE: 'api://umcp' }).OAUTH_AUDIENCE, 'api://umcp');
    });

    it('reports a bad MCP-layer key the same way (one schema)', () => {
      const issues = issuesOf({ ...MINIMAL, SESSION_TTL_SECONDS: '1' });
      assert.equal(issues.length, 1);
      assert.match(issues[0]!, /^SESSION_TTL_SECONDS: /);
    });
  });

  describe('Host/Origin allowlists', () => {
    it('default to loopback names on a loopback HOST', () => {
      const c = loadConfig({ ...MINIMAL, HOST: '127.0.0.1' });
      assert.deepEqual(allowedHosts(c), ['localhost', '127.0.0.1', '[::1]']);
      assert.deepEqual(allowedOrigins(c), ['localhost', '127.0.0.1', '[::1]']);
    });

    it('use the PUBLIC_URL host in production and honour explicit lists and *', () => {
      assert.deepEqual(allowedHosts(loadConfig({ ...MINIMAL, PUBLIC_URL: 'https://mcp.example.com' })), ['mcp.example.com']);
      assert.equal(allowedHosts(loadConfig(MINIMAL)), undefined);
      assert.deepEqual(allowedOrigins(loadConfig(MINIMAL)), []);
      assert.deepEqual(allowedHosts(loadConfig({ ...MINIMAL, ALLOWED_HOSTS: 'a.example,b.example' })), ['a.example', 'b.example']);
      assert.equal(allowedHosts(loadConfig({ ...MINIMAL, HOST: '127.0.0.1', ALLOWED_HOSTS: '*' })), undefined);
    });
  });

  describe('documentation', () => {
    for (const file of ['docs/service.md', 'README.md']) {
      it(`${file} documents every key with its default`, () => {
        const doc = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
        for (const k of describeConfig()) {
          const row = doc.split('\n').find((l) => l.startsWith(`| \`${k.key}\` |`));
          assert.ok(row, `${k.key} missing from the configuration table of ${file} (regenerate with npx tsx service/src/cli/config-docs.ts)`);
          assert.ok(k.description, `${k.key} has no description in its schema`);
          if (k.defaultValue !== undefined) assert.ok(row.includes(`\`${k.defaultValue}\``), `${k.key}: default ${k.defaultValue} not in ${file}`);
        }
      });
    }
  });
  describe('entry points', () => {
    for (const entry of ['service/src/gateway-main.ts', 'service/src/worker-main.ts']) {
      it(`${entry} exits 1 with one line per bad or missing key, and no stack trace`, () => {
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '99999' };
        const run = spawnSync('node_modules/.bin/tsx', [entry], { env, encoding: 'utf8', timeout: 60_000 });
        assert.equal(run.status, 1, run.stderr);
        assert.match(run.stderr, /^invalid configuration:/m);
        for (const key of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'REQUEST_STATE_KEYS']) assert.match(run.stderr, new RegExp(`^  ${key}: `, 'm'));
        assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      });
    }
  });
});
