/** The sessionful 2025-era leg of /mcp; see handler.ts and docs/legacy-sessions.md. */
export { createLegacyHandler, type LegacyHandlerDeps, type LegacyMcpHandler } from './handler.js';
export { LOST_CALL_ERROR } from './stream-reader.js';
export type { PrereadBody } from './post.js';
