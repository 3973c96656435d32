/**
 * An OTLP/HTTP trace receiver for the tracing tests, on 127.0.0.1: takes `POST /v1/traces` in both
 * encodings the service exports with — `application/x-protobuf` (decoded here from the protobuf wire
 * format of opentelemetry-proto's ExportTraceServiceRequest: no generated code is public in the installed
 * packages, and the messages used are few) and `application/json` (OTLP/JSON, hex ids) — and keeps every
 * span in one normalized shape, with the request headers seen.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AttrValue = string | number | boolean | AttrValue[] | undefined;

/** One received span. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Record<string, AttrValue>;
  readonly links: { traceId: string; spanId: string }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly resource: Record<string, AttrValue>;
  readonly scope: string;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

/** A running receiver. */
export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (spans are POSTed to `<url>/v1/traces`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Content types and headers of the export requests received. */
  readonly requests: { contentType: string; headers: IncomingHttpHeaders; path: string }[];
  /** Resolves once `match` is true of the spans received (polling), or rejects after `timeoutMs`. */
  waitFor(match: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  clear(): void;
  close(): Promise<void>;
}

// ---- protobuf wire format (only what ExportTraceServiceRequest uses) ----

type Field = { no: number; wire: number; value: bigint | Buffer };

function readVarint(buf: Buffer, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[pos.i++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return result;
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: readVarint(buf, pos) });
    else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + 8) });
      pos.i += 8;
    } else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + 4) });
      pos.i += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const bytes = (f: Field) => f.value as Buffer;
const str = (f: Field) => bytes(f).toString('utf8');

function anyValue(buf: Buffer): AttrValue {
  for (const f of fields(buf)) {
    if (f.no === 1) return str(f);
    if (f.no === 2) return (f.value as bigint) !== 0n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
    if (f.no === 4) return bytes(f).readDoubleLE(0);
    if (f.no === 5) return fields(bytes(f)).map((v) => anyValue(bytes(v)));
  }
  return undefined;
}

function keyValues(list: Field[]): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list) {
    const parts = fields(bytes(kv));
    const key = parts.find((p) => p.no === 1);
    const value = parts.find((p) => p.no === 2);
    if (key) out[str(key)] = value ? anyValue(bytes(value)) : undefined;
  }
  return out;
}

function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of fields(body).filter((f) => f.no === 1)) {
    const rsFields = fields(bytes(rs));
    const resourceField = rsFields.find((f) => f.no === 1);
    const resource = resourceField ? keyValues(fields(bytes(resourceField)).filter((f) => f.no === 1)) : {};
    for (const ss of rsFields.filter((f) => f.no === 2)) {
      const ssFields = fields(bytes(ss));
      const scopeField = ssFields.find((f) => f.no === 1);
      const scope = scopeField ? str(fields(bytes(scopeField)).find((f) => f.no === 1)!) : '';
      for (const sp of ssFields.filter((f) => f.no === 2)) {
        const s = fields(bytes(sp));
        const one = (no: number) => s.find((f) => f.no === no);
        const parent = one(4);
        const status = one(15);
        const code = status ? fields(bytes(status)).find((f) => f.no === 3) : undefined;
        spans.push({
          traceId: bytes(one(1)!).toString('hex'),
          spanId: bytes(one(2)!).toString('hex'),
          parentSpanId: parent && bytes(parent).length ? bytes(parent).toString('hex') : undefined,
          name: str(one(5)!),
          kind: Number((one(6)?.value as bigint | undefined) ?? 0n),
          attributes: keyValues(s.filter((f) => f.no === 9)),
          links: s
            .filter((f) => f.no === 13)
            .map((l) => {
              const lf = fields(bytes(l));
              return { traceId: bytes(lf.find((f) => f.no === 1)!).toString('hex'), spanId: bytes(lf.find((f) => f.no === 2)!).toString('hex') };
            }),
          statusCode: code ? Number(code.value as bigint) : 0,
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

// ---- OTLP/JSON ----

type JsonAny = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAny[] };
};
type JsonKv = { key: string; value?: JsonAny };

function jsonValue(v: JsonAny | undefined): AttrValue {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

const jsonAttrs = (list: JsonKv[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
/** OTLP/JSON ids are hex; a base64 id (older exporters) is converted. */
const hexId = (id: string | undefined, len: number) =>
  !id ? '' : /^[0-9a-f]+$/i.test(id) && id.length === len ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');

function decodeJson(body: Buffer): ReceivedSpan[] {
  const doc = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: {
      resource?: { attributes?: JsonKv[] };
      scopeSpans?: {
        scope?: { name?: string };
        spans?: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind?: number;
          attributes?: JsonKv[];
          links?: { traceId: string; spanId: string }[];
          status?: { code?: number };
        }[];
      }[];
    }[];
  };
  const spans: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const resource = jsonAttrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const parent = hexId(s.parentSpanId, 16);
        spans.push({
          traceId: hexId(s.traceId, 32),
          spanId: hexId(s.spanId, 16),
          parentSpanId: parent || undefined,
          name: s.name,
          kind: s.kind ?? 0,
          attributes: jsonAttrs(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: hexId(l.traceId, 32), spanId: hexId(l.spanId, 16) })),
          statusCode: s.status?.code ?? 0,
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return spans;
}

/** Starts a receiver on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: OtlpReceiver['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      requests.push({ contentType, headers: req.headers, path: req.url ?? '' });
      try {
        const body = Buffer.concat(chunks);
        if (req.method !== 'POST' || req.url !== '/v1/traces') throw new Error(`unexpected ${req.method} ${req.url}`);
        if (contentType === 'application/x-protobuf') {
          spans.push(...decodeProtobuf(body));
          // An empty ExportTraceServiceResponse.
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else if (contentType === 'application/json') {
          spans.push(...decodeJson(body));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else throw new Error(`unexpected content type ${contentType}`);
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end((err as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    async waitFor(match, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!match(spans)) {
        if (Date.now() > until) throw new Error(`spans not received in ${timeoutMs} ms; got: ${spans.map((s) => s.name).join(', ') || 'none'}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return spans;
    },
    clear() {
      spans.length = 0;
      requests.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
