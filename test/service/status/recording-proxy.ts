/**
 * A pass-through HTTP proxy in front of a test gateway that records what reached the origin (method,
 * path, If-None-Match, status). The browser tests point chromium at it, read the record to tell a cache
 * hit from a network request, and close it to take the origin offline for real (connections refused).
 */
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that reached the origin. */
export interface OriginHit {
  readonly method: string;
  readonly path: string;
  readonly ifNoneMatch: string | undefined;
  readonly status: number;
}

/** The running proxy. */
export interface RecordingProxy {
  /** http://127.0.0.1:<port> (a secure context for service workers). */
  readonly url: string;
  readonly hits: OriginHit[];
  /** Sends later requests to another origin (a new deployment behind the same address). */
  retarget(target: string): void;
  /** Stops listening and cuts every open connection: the origin is unreachable from now on. */
  goOffline(): Promise<void>;
}

/** Starts a proxy to `target` (a base URL) on a free loopback port. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  let upstream = new URL(target);
  const hits: OriginHit[] = [];
  const server: Server = createServer((req, res) => {
    // Fixed per request: a retarget mid-request must not mix origins.
    const origin = upstream;
    const forward = request(
      { host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers: { ...req.headers, host: origin.host } },
      (up) => {
        const inm = req.headers['if-none-match'];
        hits.push({
          method: req.method ?? 'GET',
          path: (req.url ?? '/').split('?')[0]!,
          ifNoneMatch: Array.isArray(inm) ? inm.join(',') : inm,
          status: up.statusCode ?? 0,
        });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    retarget(next) {
      upstream = new URL(next);
    },
    async goOffline() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
