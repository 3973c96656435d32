/** Helpers of the limits suites: admin API calls, SDK clients of both protocol eras, a modern tools/call. */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Gateway } from '../../../service/src/app.js';
import { call } from '../mcp/support/rpc.js';

/** Calls the admin API of `gw`; returns status and parsed body. */
export async function admin(gw: Gateway, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}/admin/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${gw.config.ADMIN_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Sets a limit through the admin API and asserts it was accepted. */
export async function setLimit(gw: Gateway, tenant: string, name: string, body: Record<string, unknown>): Promise<any> {
  const r = await admin(gw, 'PUT', `/tenants/${tenant}/limits/${name}`, body);
  if (r.status !== 200 && r.status !== 201) throw new Error(`PUT limit ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.limit;
}

/** An SDK client: `auto` negotiates 2026-07-28 with this gateway; `legacy` opens a 2025-11-25 session. */
export async function sdkClient(url: string, key: string, mode: 'auto' | 'legacy'): Promise<Client> {
  const client = new Client({ name: `limits-${mode}`, version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

/** The outcome of an SDK call: the result, or the JSON-RPC error it was refused with. */
export async function tryCall(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ ok: true } | { ok: false; code: number; message: string; data: any }> {
  try {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`tool error: ${JSON.stringify(r.content)}`);
    return { ok: true };
  } catch (err) {
    const e = err as { code?: number; message: string; data?: unknown };
    if (typeof e.code !== 'number') throw err;
    return { ok: false, code: e.code, message: e.message, data: e.data };
  }
}

/** A raw 2026-07-28 tools/call: the JSON-RPC error (or undefined on success). */
export async function rawCall(url: string, key: string, name: string, args: Record<string, unknown> = {}) {
  const r = await call(url, key, 'tools/call', { name, arguments: args });
  return { status: r.status, error: r.message.error, result: r.message.result };
}

/** Seconds until the next UTC midnight. */
export function secondsToUtcMidnight(now = Date.now()): number {
  return Math.ceil((86_400_000 - (now % 86_400_000)) / 1000);
}
