/**
 * `npm run interop` (also a step of `npm test`): the interop matrix. Real third-party MCP clients, each
 * installed from npm at a pinned version (package.json), are driven against the local platform started
 * exactly like `npm start` (its `demo` tenant and API key), with server-everything, a real 2025-era MCP
 * server process, registered as the upstream `ev` for the federated calls. Each client is asked to:
 * connect, list tools, call a built-in and a federated tool, relay progress, cancel a call (the
 * cancellation must reach the upstream), surface errors, and run tasks where it has them.
 *
 * Writes the table to docs/clients.md (between its markers) and bench/results/interop.json, prints it,
 * writes {passed, failed, skipped} (cells) to $TEST_SUMMARY_FILE, and exits non-zero when a cell fails.
 * A client whose package is missing is marked `not installed` with the reason, never faked.
 * PostgreSQL/Redis: TEST_DATABASE_URL / TEST_REDIS_URL (set by `npm test`), else the local servers, else
 * embedded ones; the platform gets its own database and key prefix on them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionTestServices } from '../support/provision.js';
import { startPlatform, type Platform } from '../conformance/platform.js';
import { startEverythingUpstream, type EverythingUpstream } from '../service/federation/support/everything-upstream.js';
import { CAPABILITIES, KNOWN_FAILURES, type ClientRow, type Target } from './matrix.js';
import { counts, markdown, writeJson, writeMarkdown } from './report.js';

/** The clients, in table order; each module is imported only when its turn comes, so a missing package marks its rows only. */
const CLIENTS: { label: string; pkg: string; load: () => Promise<(t: Target) => Promise<ClientRow | ClientRow[]>> }[] = [
  { label: 'MCP Inspector CLI', pkg: '@modelcontextprotocol/inspector', load: async () => (await import('./clients/inspector.js')).inspector },
  { label: 'TypeScript SDK v1 client', pkg: '@modelcontextprotocol/sdk', load: async () => (await import('./clients/sdk-v1.js')).sdkV1 },
  { label: 'TypeScript SDK v2 client', pkg: '@modelcontextprotocol/client', load: async () => (await import('./clients/sdk-v2.js')).sdkV2 },
  { label: 'mcp-remote (stdio bridge)', pkg: 'mcp-remote', load: async () => (await import('./clients/mcp-remote.js')).mcpRemote },
  { label: 'mcporter', pkg: 'mcporter', load: async () => (await import('./clients/mcporter.js')).mcporter },
];

const DOC = 'docs/clients.md';
const JSON_OUT = join('bench', 'results', 'interop.json');

async function registerUpstream(p: Platform, url: string): Promise<void> {
  const res = await fetch(`${p.lines.ADMIN_URL}/admin/v1/tenants/demo/upstreams`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.lines.ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ev', url }),
  });
  if (res.status !== 201) throw new Error(`registering the upstream failed: HTTP ${res.status} ${await res.text()}`);
}

async function runClients(t: Target): Promise<ClientRow[]> {
  const rows: ClientRow[] = [];
  for (const c of CLIENTS) {
    const started = Date.now();
    let drive;
    try {
      drive = await c.load();
    } catch (err) {
      const note = `cannot load ${c.pkg}: ${(err as Error).message.split('\n')[0]} (run npm ci)`;
      rows.push({
        id: c.pkg,
        label: c.label,
        pkg: c.pkg,
        version: '–',
        how: '–',
        cells: Object.fromEntries(CAPABILITIES.map((cap) => [cap, { status: 'not-installed', note }])),
      });
      continue;
    }
    try {
      const out = await drive(t);
      rows.push(...(Array.isArray(out) ? out : [out]));
    } catch (err) {
      const note = `the driver crashed: ${(err as Error).message.split('\n')[0]}`;
      rows.push({
        id: c.pkg,
        label: c.label,
        pkg: c.pkg,
        version: '–',
        how: '–',
        cells: Object.fromEntries(CAPABILITIES.map((cap) => [cap, { status: 'fail', note }])),
      });
    }
    console.log(`  ${c.label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return rows;
}

async function main(): Promise<number> {
  const services = await provisionTestServices();
  const env = { ...process.env, TEST_DATABASE_URL: services.databaseUrl, TEST_REDIS_URL: services.redisUrl };
  const scratch = mkdtempSync(join(tmpdir(), 'umcp-interop-'));
  let upstream: EverythingUpstream | undefined;
  let platform: Platform | undefined;
  try {
    upstream = await startEverythingUpstream();
    // API keys only (no anonymous tenant): every client must send its Authorization header.
    platform = await startPlatform(env, { ANONYMOUS_TENANT: '', TOOLSETS: 'platform,diagnostics' });
    await registerUpstream(platform, upstream.url);
    console.log(`local platform up at ${platform.mcpUrl}, upstream ev at ${upstream.url}`);
    const rows = await runClients({ mcpUrl: platform.mcpUrl, apiKey: platform.lines.API_KEY!, upstreamSent: upstream.sent, scratch });

    const generatedAt = new Date().toISOString();
    const table = markdown(rows, generatedAt);
    writeMarkdown(DOC, table);
    writeJson(JSON_OUT, rows, generatedAt);
    console.log(`\n${table}\n`);
    for (const r of rows)
      for (const cap of Object.keys(KNOWN_FAILURES[r.id] ?? {}) as (keyof (typeof KNOWN_FAILURES)[string])[])
        if (r.cells[cap]?.status === 'pass')
          console.log(`note: the known failure ${r.id} / ${cap} now passes: remove it from KNOWN_FAILURES in test/interop/matrix.ts`);
    const totals = counts(rows);
    console.log(`interop: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} by design or known (cells); written to ${DOC} and ${JSON_OUT}`);
    if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify(totals));
    return totals.failed > 0 ? 1 : 0;
  } finally {
    await platform?.stop();
    await upstream?.close();
    await services.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    if (process.env.TEST_SUMMARY_FILE) writeFileSync(process.env.TEST_SUMMARY_FILE, JSON.stringify({ passed: 0, failed: 1, skipped: 0 }));
    process.exit(1);
  },
);
