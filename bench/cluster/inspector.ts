/**
 * Talks to a gateway's V8 inspector (started with `--inspect=127.0.0.1:0`, loopback only, bench only) to
 * force a full GC and read process.memoryUsage(), so memory figures are not hidden garbage.
 */
import { WebSocket } from 'undici';

/** Finds the inspector URL that node printed into a process log. */
export function inspectorUrl(log: string): string | undefined {
  return /ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+/.exec(log)?.[0];
}

/** A connected inspector session. */
export interface Inspector {
  /** Full GC, then process.memoryUsage() of the inspected process (bytes). */
  memoryAfterGc(): Promise<{ rss: number; heapUsed: number; external: number }>;
  close(): void;
}

/** Connects to `url`. */
export async function connectInspector(url: string): Promise<Inspector> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot connect to the inspector at ${url}`)), { once: true });
  });
  let id = 0;
  const pending = new Map<number, (msg: { result?: any; error?: { message: string } }) => void>();
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: any; error?: { message: string } };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const myId = ++id;
      const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 30_000);
      pending.set(myId, (msg) => {
        clearTimeout(timer);
        pending.delete(myId);
        if (msg.error) reject(new Error(`inspector ${method}: ${msg.error.message}`));
        else resolve(msg.result);
      });
      ws.send(JSON.stringify({ id: myId, method, params }));
    });
  return {
    async memoryAfterGc() {
      await send('HeapProfiler.collectGarbage');
      await send('HeapProfiler.collectGarbage');
      const r = await send('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
      return JSON.parse(r.result.value as string) as { rss: number; heapUsed: number; external: number };
    },
    close: () => ws.close(),
  };
}
