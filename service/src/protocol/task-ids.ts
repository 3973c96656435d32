/**
 * Task id formats a caller sees:
 *
 * - the gateway's own tasks: a random UUID (tasks/task-store.ts), stored in PostgreSQL;
 * - an upstream's task (a 2026-07-28 upstream owns it): `up.<namespace>.<base64url(upstream id)>`, nothing
 *   stored, so any replica routes its `tasks/*` requests to the upstream.
 *
 * Pure functions: no I/O.
 */

const FEDERATED_PREFIX = 'up.';

/** Whether `id` names an upstream's task (a federated id) rather than one of the gateway's own. */
export function isFederatedTaskId(id: string): boolean {
  return id.startsWith(FEDERATED_PREFIX);
}

/** The id a caller sees for an upstream's task. */
export function federatedTaskId(namespace: string, upstreamTaskId: string): string {
  return `${FEDERATED_PREFIX}${namespace}.${Buffer.from(upstreamTaskId, 'utf8').toString('base64url')}`;
}

/** Namespace and upstream id of a federated task id; undefined for the gateway's own task ids. */
export function parseFederatedTaskId(id: string): { namespace: string; taskId: string } | undefined {
  if (!id.startsWith(FEDERATED_PREFIX)) return undefined;
  const rest = id.slice(FEDERATED_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return undefined;
  const encoded = rest.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  return { namespace: rest.slice(0, dot), taskId: Buffer.from(encoded, 'base64url').toString('utf8') };
}
