/**
 * Store ports: what the rest of the service may ask of persistent state, in domain verbs. One production
 * adapter each (PostgreSQL under store/pg, Redis under store/redis, object storage under store/blob).
 * Adapters own their connections and have close(). Nothing here names a pool, a transaction or a client.
 */
import type { Principal } from '../domain/principal.js';
import type { ToolListing, ToolRename, VirtualServer } from '../domain/virtual-server.js';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly status: 'active' | 'disabled';
  readonly toolsets: readonly string[];
  /** Region whose shard holds the tenant's data (null until sharding places it). */
  readonly homeRegion: string | null;
  readonly createdAt: Date;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  /** Public prefix used for lookup (the part before the secret); never the secret itself. */
  readonly prefix: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
  /** `server:<name>` / `tool:<glob>` scopes (docs/virtual-servers.md); empty = the whole tenant. */
  readonly scopes: readonly string[];
}

export interface TenantStore {
  create(input: { name: string; toolsets?: readonly string[] }): Promise<Tenant>;
  /** Idempotent: returns the existing tenant when the name exists. */
  ensure(input: { name: string; toolsets?: readonly string[] }): Promise<Tenant>;
  get(id: string): Promise<Tenant | null>;
  getByName(name: string): Promise<Tenant | null>;
  list(): Promise<Tenant[]>;
  setStatus(id: string, status: Tenant['status']): Promise<Tenant>;
  setToolsets(id: string, toolsets: readonly string[]): Promise<Tenant>;
}

/** Why an API key was refused: not a key of this platform (or a wrong secret), revoked, or its tenant disabled. */
export type KeyRejection = { readonly reason: 'unknown' } | { readonly reason: 'revoked' } | { readonly reason: 'tenant-disabled'; readonly tenant: string };

export interface ApiKeyStore {
  /** Creates a key; the plain key is returned once and only its hash is stored. */
  create(tenantId: string, name: string, scopes?: readonly string[]): Promise<{ key: string; record: ApiKeyRecord }>;
  /** Resolves a plain key to its tenant principal, or null (unknown, revoked, tenant disabled). */
  verify(plainKey: string): Promise<Principal | null>;
  /**
   * Why verify() refused `plainKey`, for the caller's error message. Only a holder of the full key (prefix
   * and secret) learns more than `unknown`. Called on the failure path only.
   */
  explainRejection(plainKey: string): Promise<KeyRejection>;
  list(tenantId: string): Promise<ApiKeyRecord[]>;
  revoke(tenantId: string, keyId: string): Promise<void>;
}

/** What creating a virtual server takes. */
export interface VirtualServerInput {
  readonly name: string;
  readonly include: readonly string[];
  readonly exclude?: readonly string[];
  readonly renames?: readonly ToolRename[];
  readonly descriptions?: Readonly<Record<string, string>>;
  readonly toolListing?: ToolListing;
}

/** A tenant's virtual servers (issue 20). */
export interface VirtualServerStore {
  /** A taken name is a ConflictError. */
  create(tenantId: string, input: VirtualServerInput): Promise<VirtualServer>;
  /** Every virtual server of the tenant, by name (few per tenant: read whole and cached). */
  list(tenantId: string): Promise<VirtualServer[]>;
  /** NotFoundError when the tenant has no server of that name. */
  delete(tenantId: string, name: string): Promise<void>;
}

export interface AuditEntry {
  readonly tenantId: string | null;
  /** principal subject, or `admin` */
  readonly actor: string;
  /** e.g. `tenant.create`, `key.revoke`, `tools/call` */
  readonly action: string;
  /** e.g. the tool name; never argument values that may hold secrets */
  readonly target?: string;
  readonly outcome: 'ok' | 'error' | 'denied';
  readonly durationMs?: number;
  readonly requestId?: string;
  readonly detail?: Record<string, unknown>;
}

export interface AuditLog {
  /** Fire-and-forget safe: never throws into the caller's request path (errors are logged). */
  record(entry: AuditEntry): Promise<void>;
  list(filter: { tenantId?: string; limit?: number }): Promise<(AuditEntry & { id: string; at: Date })[]>;
}

/** Fixed-window or token-bucket limiter; the state lives in Redis so every replica shares it. */
export interface RateLimiter {
  /** Consumes one unit for `key`; `allowed=false` carries how long to wait. */
  consume(key: string): Promise<{ allowed: boolean; remaining: number; retryAfterMs: number }>;
}

/** A create/update collided with an existing unique value (tenant name, key prefix). Mapped to HTTP 409. */
export class ConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** The addressed record does not exist (or is not visible to the caller). Mapped to HTTP 404. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}
