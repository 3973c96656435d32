/**
 * The modern leg's side of per-view notifications (list-change-gate.ts): the SDK handler of a tenant (and
 * of each restricted view) gets an event bus whose listeners see only what their gate admits. A handler is
 * keyed by {@link viewHandlerKey}: the tenant id for whole-tenant callers, else the parts of the principal a
 * view depends on, from which {@link viewPrincipal} rebuilds the principal the gate works for.
 */
import type { ServerEventBus } from '@modelcontextprotocol/server';
import type { Principal } from '../../domain/principal.js';
import { familyOf, unmark, VIEWS_CHANGED_META, type NotificationGate } from './list-change-gate.js';
import { ViewResolver } from './view-resolver.js';

/** The key of the SDK handler serving `p`'s 2026-07-28 requests. */
export function viewHandlerKey(p: Principal): string {
  return ViewResolver.restricted(p) ? JSON.stringify([p.tenantId, p.server ?? null, [...p.scopes].sort(), [...p.toolsets].sort(), p.tenantName]) : p.tenantId;
}

/** The principal a handler key stands for (what its view depends on; the subject is not part of it). */
export function viewPrincipal(key: string): Principal {
  if (!key.startsWith('[')) return { tenantId: key, tenantName: '', subject: 'listener', kind: 'api-key', toolsets: [], scopes: [] };
  const [tenantId, server, scopes, toolsets, tenantName] = JSON.parse(key) as [string, string | null, string[], string[], string];
  return { tenantId, tenantName, subject: 'listener', kind: 'api-key', toolsets, scopes, ...(server !== null && { server }) };
}

/** `inner` with each listener behind a gate of its own; events reach a listener in publication order. */
export function gatedBus(inner: ServerEventBus, openGate: () => NotificationGate, onError: (err: unknown) => void): ServerEventBus {
  return {
    publish: (event) => inner.publish(event),
    subscribe(listener) {
      const gate = openGate();
      let chain = gate.prime().catch(() => undefined);
      return inner.subscribe((event) => {
        chain = chain
          .then(async () => {
            const { marked, params } = unmark(event.params as Record<string, unknown> | undefined);
            const updated = event.kind === 'resource_updated';
            const family = updated ? undefined : familyOf(event.kind);
            if (!(await gate.admit({ marked, ...(family && { family }), ...(updated && { uri: event.uri }) }))) return;
            listener(marked ? ({ ...event, params } as typeof event) : event);
          })
          .catch(onError);
      });
    },
  };
}

/** The events a virtual-server change publishes (bus kind, 2025-era method), marked for the gates. */
export const VIEWS_CHANGED_EVENTS = [
  ['tools_list_changed', 'notifications/tools/list_changed'],
  ['prompts_list_changed', 'notifications/prompts/list_changed'],
  ['resources_list_changed', 'notifications/resources/list_changed'],
] as const;

/** The params marking a virtual-server change's events. */
export const VIEWS_CHANGED_PARAMS = { _meta: { [VIEWS_CHANGED_META]: true } };
