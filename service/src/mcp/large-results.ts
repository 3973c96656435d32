/**
 * Large tool results by reference (issue 8, "Object storage"): the tool-call pipeline's offload stage
 * (pipeline/stages/large-result.ts) runs for built-in and upstream tools alike, after the task stage (so
 * synchronous calls pass through it, and task-created answers stay untouched); the worker's pipeline has
 * it too, so a task's stored result is offloaded.
 *
 * - `tools/call`: a complete result whose serialized JSON is over LARGE_RESULT_BYTES is written to the
 *   BlobStore under the caller's tenant and its `content` replaced by a short text summary plus a
 *   `resource_link` (`umcp-blob://<tenant>/results/...`). A single text item is stored as that text
 *   (`text/plain`); anything else (several items, images, audio, or a structuredContent too large to
 *   stay inline) as the JSON of `{content, structuredContent}`.
 *   `structuredContent` stays inline while it alone fits under the threshold (clients validate it
 *   against the tool's outputSchema); otherwise it is only in the stored object.
 * - `resources/read` of a `umcp-blob:` URI streams the object back to the same tenant only; any other
 *   tenant (or a missing or expired object) gets the same "Resource not found". Other URIs go to the
 *   handler that was there (built-in resources, federated upstreams).
 *
 * If the store fails while offloading, the result goes out inline (as before this existed) and a
 * warning is logged: a failing bucket must not turn every large answer into an error.
 */
import { ResourceNotFoundError } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Principal } from '../domain/principal.js';
import type { BlobStore } from '../store/blob/blob-store.js';
import { BLOB_URI_SCHEME, offloadIfLarge, openBlobResource, type ResourceLink } from '../store/blob/large-results.js';
import { NotFoundError } from '../store/ports.js';
import type { ServerHandlers } from './pipeline/server-handlers.js';

/** What the server wrapper needs. */
export interface LargeResultsDeps {
  readonly store: BlobStore;
  /** LARGE_RESULT_BYTES. */
  readonly thresholdBytes: number;
  /** BLOB_RETENTION_DAYS, shown in the summary (0 = kept). */
  readonly retentionDays?: number;
  readonly logger?: Logger;
  readonly metrics?: LargeResultMetrics;
}

/** Counters of offloaded results and bytes. */
export interface LargeResultMetrics {
  readonly offloaded: Counter<'outcome'>;
  readonly bytes: Counter;
  readonly reads: Counter<'outcome'>;
}

/** Registers the counters on `registry` (once per registry). */
export function largeResultMetrics(registry: Registry): LargeResultMetrics {
  const existing = (name: string) => registry.getSingleMetric(name);
  return {
    offloaded:
      (existing('umcp_large_results_total') as Counter<'outcome'> | undefined) ??
      new Counter({
        name: 'umcp_large_results_total',
        help: 'Tool results over LARGE_RESULT_BYTES, by outcome (stored = returned as a resource_link, inline = store failed, sent inline).',
        labelNames: ['outcome'],
        registers: [registry],
      }),
    bytes:
      (existing('umcp_large_result_bytes_total') as Counter | undefined) ??
      new Counter({ name: 'umcp_large_result_bytes_total', help: 'Bytes of tool results written to object storage.', registers: [registry] }),
    reads:
      (existing('umcp_large_result_reads_total') as Counter<'outcome'> | undefined) ??
      new Counter({
        name: 'umcp_large_result_reads_total',
        help: 'resources/read of stored results, by outcome (ok, not_found).',
        labelNames: ['outcome'],
        registers: [registry],
      }),
  };
}

const ReadParams = z.object({ uri: z.string().min(1).max(4096) }).passthrough();
const ContentItem = z.object({ type: z.string() }).passthrough();
const CompleteResult = z
  .object({
    content: z.array(ContentItem),
    structuredContent: z.record(z.string(), z.unknown()).optional(),
    resultType: z.literal('complete').optional(),
  })
  .passthrough();

/** MIME types returned as `text` by resources/read (others as base64 `blob`). */
function isTextual(mimeType: string): boolean {
  return mimeType.startsWith('text/') || /^application\/([\w.+-]*\+)?json\b/.test(mimeType);
}

function summary(bytes: number, link: ResourceLink, preview: string | undefined, retentionDays: number | undefined): string {
  const kept = retentionDays && retentionDays > 0 ? ` It is kept for ${retentionDays} day(s).` : '';
  const head = preview === undefined ? '' : `\nFirst ${preview.length} characters:\n${preview}`;
  return `The result is ${bytes.toLocaleString('en-US')} bytes, more than this server returns inline; it was stored as ${link.uri} (${link.mimeType}, ${link.size.toLocaleString('en-US')} bytes). Read it with resources/read.${kept}${head}`;
}

/**
 * Replaces `result` by a summary + resource_link when its JSON is over the threshold; returns it
 * unchanged otherwise (also for task-created, input-required and other non-final results).
 */
export async function offloadToolResult(result: unknown, tenantId: string, deps: LargeResultsDeps, toolName?: string): Promise<unknown> {
  // Size first: almost every result is small, and the schema check copies the whole result.
  const size = typeof result === 'object' && result !== null ? Buffer.byteLength(JSON.stringify(result)) : 0;
  if (size <= deps.thresholdBytes) return result;
  const parsed = CompleteResult.safeParse(result);
  if (!parsed.success) return result;
  const { content, structuredContent, ...rest } = parsed.data;
  const keepStructured = structuredContent !== undefined && Buffer.byteLength(JSON.stringify(structuredContent)) <= deps.thresholdBytes;
  // Stored as plain text only when nothing else would be lost (structuredContent absent or inline).
  const single =
    content.length === 1 && content[0]!.type === 'text' && typeof content[0]!['text'] === 'string' && (structuredContent === undefined || keepStructured)
      ? (content[0]!['text'] as string)
      : undefined;
  try {
    const payload = single ?? JSON.stringify({ content, ...(structuredContent !== undefined && { structuredContent }) });
    const link = await offloadIfLarge(deps.store, tenantId, payload, {
      thresholdBytes: 0,
      mimeType: single !== undefined ? 'text/plain; charset=utf-8' : 'application/json',
      name: toolName ? `${toolName} result` : 'tool result',
    });
    if (!link) return result; // empty payload: nothing to store
    deps.metrics?.offloaded.inc({ outcome: 'stored' });
    deps.metrics?.bytes.inc(link.size);
    deps.logger?.debug({ tenantId, tool: toolName, bytes: size, uri: link.uri }, 'large tool result stored in object storage');
    return {
      ...rest,
      content: [
        { type: 'text', text: summary(size, link, single?.slice(0, 200), deps.retentionDays) },
        { ...link, description: `Full result of ${toolName ?? 'the tool call'}; readable by this tenant with resources/read.` },
      ],
      ...(keepStructured && { structuredContent }),
    };
  } catch (err) {
    deps.metrics?.offloaded.inc({ outcome: 'inline' });
    deps.logger?.warn(
      { err: err instanceof Error ? err.message : String(err), tenantId, tool: toolName, bytes: size },
      'object storage failed; large tool result sent inline',
    );
    return result;
  }
}

/** Reads a stored result for `tenantId` as a resources/read result; ResourceNotFoundError when not theirs. */
export async function readStoredResult(
  uri: string,
  tenantId: string,
  deps: Pick<LargeResultsDeps, 'store' | 'metrics'>,
): Promise<{ contents: Record<string, unknown>[] }> {
  let obj;
  try {
    obj = await openBlobResource(deps.store, tenantId, uri);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    deps.metrics?.reads.inc({ outcome: 'not_found' });
    throw new ResourceNotFoundError(uri);
  }
  const chunks: Buffer[] = [];
  for await (const c of obj.body) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  const bytes = Buffer.concat(chunks);
  deps.metrics?.reads.inc({ outcome: 'ok' });
  const mimeType = obj.contentType;
  return { contents: [isTextual(mimeType) ? { uri, mimeType, text: bytes.toString('utf8') } : { uri, mimeType, blob: bytes.toString('base64') }] };
}

/**
 * Serves `resources/read` of stored results on one per-request server, before whatever read handler was
 * there (built-in resources, federated upstreams). Composed over the recorded handlers, so neither an
 * extra capability nor a second result validation is added: a tenant without resources keeps its
 * announced surface, and its links are still readable. (Offloading is the pipeline's stage.)
 */
export function serveStoredResults(handlers: ServerHandlers, principal: Principal, deps: LargeResultsDeps): void {
  const read = handlers.current('resources/read');
  handlers.set('resources/read', async (request, ctx) => {
    const params = ReadParams.safeParse(request.params ?? {});
    // Not cacheable (ttlMs 0, else the server's list hint applies): a stored result expires with its retention.
    if (params.success && params.data.uri.startsWith(BLOB_URI_SCHEME))
      return { ...(await readStoredResult(params.data.uri, principal.tenantId, deps)), ttlMs: 0 };
    if (read) return read(request, ctx);
    throw new ResourceNotFoundError(params.success ? params.data.uri : '(missing uri)');
  });
}
