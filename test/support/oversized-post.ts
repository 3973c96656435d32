/**
 * Sends one oversized POST the way curl or a blocking client does: the whole body is written first (in
 * 64 KiB chunks over a raw socket, honouring backpressure), then the answer is read. A server that closes
 * while the body is still arriving makes that write fail (EPIPE, ECONNRESET): the client never sees the
 * answer, which is what this reports as `error`.
 */
import { connect } from 'node:net';

/** What came back. */
export interface OversizedReply {
  status: number;
  body: string;
  error?: string;
}

/** `n` sizes spread over 4–64 MiB (deterministic, not all powers of two). */
export function oversizeSizes(n: number): number[] {
  const MiB = 1024 * 1024;
  return Array.from({ length: n }, (_, i) => Math.round(4 * MiB + ((60 * MiB) / Math.max(1, n - 1)) * i) + (i % 7) * 4093);
}

/** Status and body of a complete HTTP/1.1 response in `raw` (Content-Length or chunked), or undefined. */
function parseResponse(raw: Buffer): { status: number; body: string } | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = raw.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const rest = raw.subarray(end + 4);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return rest.byteLength >= Number(length[1]) ? { status, body: rest.subarray(0, Number(length[1])).toString('utf8') } : undefined;
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const text = rest.toString('latin1');
    if (!text.includes('\r\n0\r\n\r\n') && !text.startsWith('0\r\n\r\n')) return undefined;
    let body = '';
    let i = 0;
    for (;;) {
      const nl = text.indexOf('\r\n', i);
      const size = parseInt(text.slice(i, nl), 16);
      if (!size) break;
      body += text.slice(nl + 2, nl + 2 + size);
      i = nl + 2 + size + 2;
    }
    return { status, body: Buffer.from(body, 'latin1').toString('utf8') };
  }
  return undefined;
}

/** POSTs `size` bytes to `url` with `headers` (Content-Length, or chunked when `chunked`); writes all, then reads. */
export function oversizedPost(url: string, headers: Record<string, string>, size: number, chunked: boolean): Promise<OversizedReply> {
  const u = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    const received: Buffer[] = [];
    // Half-open allowed: a server may half-close after its answer (FIN) and go on reading the body; a
    // blocking client then finishes writing and reads the answer. Only a reset (EPIPE, ECONNRESET) loses it.
    const socket = connect({ port: Number(u.port), host: u.hostname, allowHalfOpen: true });
    const settle = (r: OversizedReply) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(60_000, () => settle({ status: 0, body: '', error: 'timeout' }));
    socket.on('error', (err: NodeJS.ErrnoException) => settle({ status: 0, body: '', error: err.code ?? err.message }));
    socket.on('data', (c: Buffer) => {
      received.push(c);
      if (!written) return;
      const r = parseResponse(Buffer.concat(received));
      if (r) settle(r);
    });
    let ended = false;
    socket.on('end', () => {
      ended = true;
      if (!written) return; // half-closed by the server: the rest of the body still goes out, then the answer is read
      settle(parseResponse(Buffer.concat(received)) ?? { status: 0, body: '', error: 'closed without a complete answer' });
    });
    let written = false;
    const lines = [`POST ${u.pathname} HTTP/1.1`, `host: ${u.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    lines.push(chunked ? 'transfer-encoding: chunked' : `content-length: ${size}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    chunk.write('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"');
    let sent = 0;
    const frame = (b: Buffer) => (chunked ? Buffer.concat([Buffer.from(`${b.byteLength.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b);
    const pump = () => {
      while (sent < size) {
        const n = Math.min(chunk.byteLength, size - sent);
        sent += n;
        if (!socket.write(frame(n === chunk.byteLength ? chunk : chunk.subarray(0, n)))) return void socket.once('drain', pump);
      }
      socket.write(chunked ? '0\r\n\r\n' : '', () => {
        written = true;
        const r = parseResponse(Buffer.concat(received));
        if (r) settle(r);
        else if (ended) settle({ status: 0, body: '', error: 'closed without a complete answer' });
      });
    };
    socket.once('connect', pump);
  });
}
