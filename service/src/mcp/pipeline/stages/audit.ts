/**
 * Stage 5, audit: every call that runs (directly, or as a task on the worker) is recorded with actor,
 * tool, outcome, duration and, for an upstream's tool, its namespace. Argument values are never recorded
 * (they may hold secrets). The gateway's audit log batches entries (store/pg/batching-audit-log.ts).
 */
import type { Logger } from 'pino';
import type { AuditLog } from '../../../store/ports.js';
import type { Stage } from '../pipeline.js';

/** The audit stage over `audit`; a failed write is logged, never the caller's error. */
export function auditStage(audit: AuditLog, logger: Logger): Stage {
  return {
    name: 'audit',
    async run(call, next) {
      const started = performance.now();
      let outcome: 'ok' | 'error' = 'error';
      try {
        const result = await next(call);
        outcome = result['isError'] ? 'error' : 'ok';
        return result;
      } finally {
        audit
          .record({
            tenantId: call.principal.tenantId,
            actor: call.principal.subject,
            action: 'tools/call',
            target: call.params.name,
            outcome,
            durationMs: Math.round(performance.now() - started),
            ...(call.requestId && { requestId: call.requestId }),
            detail: { era: call.era, ...(call.target.upstream !== undefined && { upstream: call.target.upstream }) },
          })
          .catch((err: unknown) => logger.warn({ err, tool: call.params.name }, 'audit record failed'));
      }
    },
  };
}
