/**
 * Helpers of the tracing tests: a recording HTTP proxy in front of a fixture upstream (what trace context
 * reached the upstream: the `traceparent` header and a tools/call's `params._meta`), W3C ids, and span-tree
 * queries over what the OTLP receiver got.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReceivedSpan } from '../../support/otlp-receiver.js';

/** What one upstream request carried. */
export interface SeenUpstreamRequest {
  readonly method: string | undefined;
  readonly traceparent: string | undefined;
  readonly baggage: string | undefined;
  readonly metaTraceparent: string | undefined;
  readonly body: string;
}

/** A loopback proxy to `target` that records each request's trace context. */
export async function startRecordingProxy(target: string): Promise<{ url: string; seen: SeenUpstreamRequest[]; close(): Promise<void> }> {
  const seen: SeenUpstreamRequest[] = [];
  const targetUrl = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: { method?: string; params?: { _meta?: { traceparent?: string } } } | undefined;
      try {
        parsed = body ? JSON.parse(body) : undefined;
      } catch {
        parsed = undefined;
      }
      seen.push({
        method: parsed?.method,
        traceparent: req.headers['traceparent'] as string | undefined,
        baggage: req.headers['baggage'] as string | undefined,
        metaTraceparent: parsed?.params?._meta?.traceparent,
        body,
      });
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers.set(k, v);
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      fetch(new URL(req.url ?? '/', targetUrl), { method: req.method, headers, ...(body && { body }), signal: abort.signal }).then(
        (up) => {
          const out: Record<string, string> = {};
          up.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'content-encoding') out[k] = v;
          });
          res.writeHead(up.status, out);
          if (!up.body) return void res.end();
          Readable.fromWeb(up.body as never)
            .on('error', () => res.destroy())
            .pipe(res);
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fresh sampled W3C traceparent and its parts. */
export function newTraceparent(): { traceparent: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

/** Parses a traceparent into its trace and parent ids. */
export function parseTraceparent(value: string | undefined): { traceId: string; spanId: string } | undefined {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(value ?? '');
  return m ? { traceId: m[1]!, spanId: m[2]! } : undefined;
}

/** Span-tree queries over one trace. */
export function traceOf(spans: ReceivedSpan[], traceId: string) {
  const mine = spans.filter((s) => s.traceId === traceId);
  const byId = new Map(mine.map((s) => [s.spanId, s]));
  return {
    spans: mine,
    named: (name: string) => mine.find((s) => s.name === name),
    /** The ancestors' names of `span`, nearest first. */
    ancestry(span: ReceivedSpan): string[] {
      const names: string[] = [];
      for (let p = span.parentSpanId && byId.get(span.parentSpanId); p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) names.push(p.name);
      return names;
    },
  };
}
