/** Request bodies and headers the bench sends (one tools/call echo, as each target expects it). */
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'umcp-bench', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A 2026-07-28 tools/call of `name` with `{text}`. */
export function toolCallBody(name: string, text = 'hello bench'): string {
  return JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { text }, _meta: ENVELOPE } });
}

/** Headers of that call (with a bearer key for the gateway). */
export function toolCallHeaders(name: string, apiKey?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': name,
    ...(apiKey && { authorization: `Bearer ${apiKey}` }),
  };
}

/** Throws unless `text` is a successful echo result of `expected`. */
export function assertEcho(text: string, expected = 'hello bench'): void {
  const body = text.startsWith('{')
    ? text
    : (
        text
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .pop() ?? ''
      ).slice(5);
  const msg = JSON.parse(body) as { result?: { content?: { text?: string }[]; isError?: boolean }; error?: { message: string } };
  if (msg.error || msg.result?.isError || msg.result?.content?.[0]?.text !== expected) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
}
