/** SDK clients the benches call tools with: one connected client per target and protocol generation. */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

/** How the client negotiates: `{ pin: '2026-07-28' }` for the 2026-07-28 generation, `'legacy'` for 2025-era sessions. */
export type ClientMode = 'auto' | 'legacy' | { pin: string };

/** A connected SDK client of `url` sending `headers` on every request. */
export async function connectClient(url: string, headers: Record<string, string>, mode: ClientMode): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}
