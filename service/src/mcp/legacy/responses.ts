/**
 * Wire answers of the legacy leg that are not produced by a server instance: HTTP-level JSON-RPC errors
 * (status + code + message, never internal details) and the 202/200 acknowledgements.
 */

/** A JSON-RPC error body with `id: null` and the given HTTP status. */
export function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/** 404 for an unknown, expired, deleted or foreign session (all indistinguishable on the wire). */
export function sessionNotFound(): Response {
  return jsonRpcError(404, -32001, 'Session not found');
}

/** 400 for a request that needs a session but carries no Mcp-Session-Id. */
export function sessionRequired(): Response {
  return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
}

/** 202 Accepted with no body (notifications and client responses). */
export function accepted(): Response {
  return new Response(null, { status: 202 });
}
