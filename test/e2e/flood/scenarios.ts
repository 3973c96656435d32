/**
 * The floods, each bounded in count and time, and what each must get back: every refused connection or
 * request a clear answer (a status and, where the request got that far, a JSON-RPC error), nothing
 * silently dropped. run-flood.ts runs them one after another while a well-behaved tenant keeps calling.
 */
import { connect, type Socket } from 'node:net';
import { Agent } from 'undici';
import { oversizedPost, oversizeSizes } from '../../support/oversized-post.js';
import { modernBody, modernHeaders, post } from '../load/http-load.js';

/** Sizes of one run (short: `npm test`; full: `npm run flood`). */
export interface FloodSizes {
  oversizeTries: number;
  idleConnections: number;
  slowClients: number;
  sseStreams: number;
  overLimitSeconds: number;
  overLimitConcurrency: number;
}

/** The gateway's limits the run configures (and checks against). */
export interface FloodLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  requestReceiveTimeoutMs: number;
  sseStreamsPerTenant: number;
  ratePerMinute: number;
}

/** The target. */
export interface FloodTarget {
  mcpUrl: string;
  calm: string;
  loud: string;
}

/** One scenario's outcome. */
export interface ScenarioResult {
  name: string;
  /** What was sent, in words. */
  sent: string;
  /** How the answers came back, counted by kind. */
  answers: Record<string, number>;
  pass: boolean;
  /** Why not, when it failed. */
  problems: string[];
}

const bump = (m: Record<string, number>, k: string) => void (m[k] = (m[k] ?? 0) + 1);

/** A raw connection that records what comes back (the first status line) and when it closes. */
function rawConnection(url: URL): Promise<{ socket: Socket; status: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let head = '';
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', (d: Buffer) => {
      if (head.length < 200) head += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, status: () => /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? (socket.destroyed ? 'closed' : 'none'), closed }));
    socket.once('error', reject);
  });
}

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

/** Oversized POSTs (4–64 MiB): every one a readable 413. */
export async function oversized(t: FloodTarget, s: FloodSizes): Promise<ScenarioResult> {
  const answers: Record<string, number> = {};
  const sizes = oversizeSizes(s.oversizeTries);
  for (let i = 0; i < sizes.length; i += 4) {
    await Promise.all(
      sizes.slice(i, i + 4).map(async (size, j) => {
        const r = await oversizedPost(t.mcpUrl, { ...modernHeaders(t.calm, 'tools/call', 'diagnostics.echo') }, size, (i + j) % 2 === 1);
        bump(answers, r.status === 413 && /"code":-32600/.test(r.body) ? '413 + JSON-RPC -32600' : `${r.status} ${r.error ?? ''}`.trim());
      }),
    );
  }
  const ok = answers['413 + JSON-RPC -32600'] ?? 0;
  return {
    name: 'oversized bodies',
    sent: `${sizes.length} POSTs of 4–64 MiB (half Content-Length, half chunked), written whole before reading`,
    answers,
    pass: ok === sizes.length,
    problems: ok === sizes.length ? [] : [`${sizes.length - ok} of ${sizes.length} not answered 413`],
  };
}

/**
 * Idle keep-alive connections past MAX_CONNECTIONS: a request on a connection over the limit gets 503 +
 * Retry-After + a JSON-RPC error; every idle one is closed with 408 after HEADERS_TIMEOUT_MS.
 */
export async function idleConnections(t: FloodTarget, s: FloodSizes, l: FloodLimits): Promise<ScenarioResult> {
  const url = new URL(t.mcpUrl);
  const answers: Record<string, number> = {};
  const problems: string[] = [];
  const conns: Awaited<ReturnType<typeof rawConnection>>[] = [];
  const started = Date.now();
  for (let i = 0; i < s.idleConnections; i += 100) {
    conns.push(...(await Promise.all(Array.from({ length: Math.min(100, s.idleConnections - i) }, () => rawConnection(url)))));
  }
  // One more, over the limit, sends a request.
  const agent = new Agent({ connections: 1 });
  const probe = await post(
    agent,
    t.mcpUrl,
    modernHeaders(t.loud, 'tools/call', 'diagnostics.echo'),
    modernBody('tools/call', { name: 'diagnostics.echo', arguments: { text: 'x' } }),
  );
  await agent.close();
  const busy = probe.status === 503 && /MAX_CONNECTIONS/.test(probe.body) && /"code":-32000/.test(probe.body);
  bump(answers, busy ? 'request over the limit: 503 + JSON-RPC -32000' : `request over the limit: ${probe.status} ${probe.error ?? probe.body.slice(0, 80)}`);
  if (!busy && s.idleConnections > l.maxConnections)
    problems.push(`a request over MAX_CONNECTIONS got ${probe.status} ${probe.error ?? probe.body.slice(0, 120)}`);
  const allClosed = await within(Promise.all(conns.map((c) => c.closed)), l.headersTimeoutMs + 10_000);
  for (const c of conns) bump(answers, `idle connection: ${c.status() === '408' ? '408 then closed' : c.status()}`);
  if (!allClosed) problems.push(`idle connections still open ${l.headersTimeoutMs + 10_000} ms after HEADERS_TIMEOUT_MS`);
  const timedOut = conns.filter((c) => c.status() === '408').length;
  if (timedOut < conns.length) problems.push(`${conns.length - timedOut} idle connections not answered 408`);
  for (const c of conns) c.socket.destroy();
  return {
    name: 'idle keep-alive connections',
    sent: `${s.idleConnections} idle connections (MAX_CONNECTIONS ${l.maxConnections}), plus one request over the limit; held ${Math.round((Date.now() - started) / 1000)} s`,
    answers,
    pass: problems.length === 0,
    problems,
  };
}

/** Slow headers (one byte every 500 ms) and slow bodies (10 bytes every 500 ms): 408 and closed. */
export async function slowClients(t: FloodTarget, s: FloodSizes, l: FloodLimits, kind: 'headers' | 'body'): Promise<ScenarioResult> {
  const url = new URL(t.mcpUrl);
  const answers: Record<string, number> = {};
  const problems: string[] = [];
  const body = modernBody('tools/call', { name: 'diagnostics.echo', arguments: { text: 'x'.repeat(100_000) } });
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    Object.entries(modernHeaders(t.loud, 'tools/call', 'diagnostics.echo'))
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const conns = await Promise.all(Array.from({ length: s.slowClients }, () => rawConnection(url)));
  const timers = conns.map((c) => {
    let sent = 0;
    if (kind === 'body') c.socket.write(head);
    return setInterval(() => {
      if (c.socket.destroyed) return;
      const data = kind === 'headers' ? head.slice(sent, sent + 1) : body.slice(sent, sent + 10);
      sent += data.length;
      c.socket.write(data);
    }, 500);
  });
  const limit = kind === 'headers' ? l.headersTimeoutMs : l.requestReceiveTimeoutMs;
  const allClosed = await within(Promise.all(conns.map((c) => c.closed)), limit + 10_000);
  timers.forEach(clearInterval);
  for (const c of conns) bump(answers, c.status() === '408' ? '408 then closed' : c.status());
  if (!allClosed) problems.push(`connections still open ${limit + 10_000} ms after the timeout`);
  const answered = conns.filter((c) => c.status() === '408').length;
  if (answered < conns.length) problems.push(`${conns.length - answered} of ${conns.length} not answered 408`);
  for (const c of conns) c.socket.destroy();
  return {
    name: kind === 'headers' ? 'slow headers' : 'slow bodies',
    sent: `${s.slowClients} connections sending ${kind === 'headers' ? 'their headers one byte' : 'a 100 kB body 10 bytes'} every 500 ms (${kind === 'headers' ? 'HEADERS_TIMEOUT_MS' : 'REQUEST_RECEIVE_TIMEOUT_MS'} ${limit})`,
    answers,
    pass: problems.length === 0,
    problems,
  };
}

/** Many concurrent SSE streams (subscriptions/listen) of one tenant: up to the limit open, the rest 429. */
export async function sseStreams(t: FloodTarget, s: FloodSizes, l: FloodLimits, holdMs: number): Promise<ScenarioResult> {
  const answers: Record<string, number> = {};
  const problems: string[] = [];
  const agent = new Agent({ connections: s.sseStreams + 10, pipelining: 0 });
  const open: AbortController[] = [];
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'subscriptions/listen',
    params: {
      notifications: { toolsListChanged: true },
      _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} },
    },
  });
  const { request } = await import('undici');
  await Promise.all(
    Array.from({ length: s.sseStreams }, async () => {
      const abort = new AbortController();
      try {
        const res = await request(t.mcpUrl, {
          method: 'POST',
          headers: modernHeaders(t.loud, 'subscriptions/listen'),
          body,
          dispatcher: agent,
          signal: abort.signal,
        });
        if (res.statusCode === 200 && String(res.headers['content-type']).startsWith('text/event-stream')) {
          open.push(abort);
          res.body.on('error', () => undefined);
          bump(answers, '200 stream open');
        } else {
          const text = await res.body.text();
          const clear = res.statusCode === 429 && /SSE_STREAMS_PER_TENANT/.test(text) && /"code":-32000/.test(text) && res.headers['retry-after'] !== undefined;
          // MAX_SUBSCRIPTIONS (the MCP layer's own listen limit) answers inside the JSON-RPC exchange.
          const subs = res.statusCode === 200 && /"code":-32603/.test(text) && /Subscription limit reached/.test(text);
          bump(
            answers,
            clear ? '429 + Retry-After + JSON-RPC -32000' : subs ? '200 + JSON-RPC -32603 (MAX_SUBSCRIPTIONS)' : `${res.statusCode} ${text.slice(0, 80)}`,
          );
        }
      } catch (err) {
        bump(answers, `error ${(err as { code?: string }).code ?? String(err)}`);
      }
    }),
  );
  await new Promise((r) => setTimeout(r, holdMs));
  const opened = answers['200 stream open'] ?? 0;
  const refused = (answers['429 + Retry-After + JSON-RPC -32000'] ?? 0) + (answers['200 + JSON-RPC -32603 (MAX_SUBSCRIPTIONS)'] ?? 0);
  const expectOpen = Math.min(s.sseStreams, l.sseStreamsPerTenant);
  if (opened !== expectOpen) problems.push(`${opened} streams open, expected ${expectOpen}`);
  if (opened + refused !== s.sseStreams) problems.push(`${s.sseStreams - opened - refused} streams neither open nor clearly refused`);
  for (const a of open) a.abort();
  await agent.close().catch(() => undefined);
  return {
    name: 'concurrent SSE streams',
    sent: `${s.sseStreams} subscriptions/listen streams of one tenant (SSE_STREAMS_PER_TENANT ${l.sseStreamsPerTenant}), held ${holdMs / 1000} s`,
    answers,
    pass: problems.length === 0,
    problems,
  };
}

/**
 * Spends the loud tenant's window (fixed window: a burst of the whole budget is allowed, by design), so
 * the measured phase is the steady state of a tenant far above its limit, not the burst it may take.
 */
export async function exhaustBudget(t: FloodTarget, ratePerMinute: number): Promise<void> {
  const agent = new Agent({ connections: 16 });
  let refused = false;
  let sent = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (!refused && sent < ratePerMinute * 3) {
        sent++;
        const o = await post(agent, t.mcpUrl, modernHeaders(t.loud, 'ping'), modernBody('ping'));
        if (o.status === 429) refused = true;
      }
    }),
  );
  await agent.close();
}

/** One tenant far above its rate limit: 429 + Retry-After for the excess, never an error or a 5xx. */
export async function overLimitTenant(t: FloodTarget, s: FloodSizes, l: FloodLimits): Promise<ScenarioResult> {
  const answers: Record<string, number> = {};
  const agent = new Agent({ connections: s.overLimitConcurrency });
  const until = Date.now() + s.overLimitSeconds * 1000;
  let sent = 0;
  await Promise.all(
    Array.from({ length: s.overLimitConcurrency }, async () => {
      while (Date.now() < until) {
        sent++;
        const o = await post(
          agent,
          t.mcpUrl,
          modernHeaders(t.loud, 'tools/call', 'diagnostics.echo'),
          modernBody('tools/call', { name: 'diagnostics.echo', arguments: { text: 'x' } }, sent),
        );
        if (o.status === 200) bump(answers, '200');
        else if (o.status === 429 && /Rate limit/.test(o.body) && /"code":-32000/.test(o.body)) bump(answers, '429 + JSON-RPC -32000');
        else bump(answers, `${o.status} ${o.error ?? o.body.slice(0, 80)}`);
      }
    }),
  );
  await agent.close();
  const unclear = Object.entries(answers).filter(([k]) => k !== '200' && k !== '429 + JSON-RPC -32000');
  const rate = sent / s.overLimitSeconds;
  const problems = unclear.map(([k, n]) => `${n} × ${k}`);
  if ((answers['429 + JSON-RPC -32000'] ?? 0) === 0) problems.push('never refused');
  return {
    name: 'one tenant far above its limit',
    sent: `${sent} calls in ${s.overLimitSeconds} s (${Math.round(rate)}/s, ${Math.round((rate * 60) / l.ratePerMinute)}x RATE_LIMIT_PER_MINUTE ${l.ratePerMinute}) over ${s.overLimitConcurrency} connections`,
    answers,
    pass: problems.length === 0,
    problems,
  };
}
