/**
 * How a regional origin accepts only the edge: the names both programs share. The regional stack limits
 * its ALB's sources to Cloudflare's published ranges (a security group rule per range) and requires a
 * secret header on every listener rule; it exports the header as the secret output `originAuth`. The
 * global stack reads that output through its StackReference, sets the header on every request it
 * proxies (a request header transform rule) and in the health monitor. docs/edge.md, "Origin access".
 * Leaves out: the resources themselves (regional/app/workloads.ts annotations, origin-auth.ts here).
 */
import { readFileSync } from 'node:fs';

/** Regional stack output carrying `{ header, value }` (secret). */
export const ORIGIN_AUTH_OUTPUT = 'originAuth';

/** What the regional stack exports under {@link ORIGIN_AUTH_OUTPUT}. */
export interface OriginAuth {
  /** Request header the region's ALB requires, lower-case. */
  readonly header: string;
  /** Its current value (random, 48 alphanumerics). */
  readonly value: string;
}

/**
 * Header name of one region. Each region has its own secret, and the edge sets every region's header on
 * every request (it cannot know which pool the load balancer will pick), so the names differ per region.
 */
export function originAuthHeader(region: string): string {
  return `x-umcp-origin-auth-${region}`;
}

interface RangesFile {
  source: string;
  retrieved: string;
  ipv4: string[];
  ipv6: string[];
}

/** Cloudflare's published edge ranges as vendored in cloudflare-ip-ranges.json. */
export function cloudflareRanges(): RangesFile {
  return JSON.parse(readFileSync(new URL('./cloudflare-ip-ranges.json', import.meta.url), 'utf8')) as RangesFile;
}

/**
 * Default sources of an internet-facing ALB: Cloudflare's IPv4 and IPv6 ranges. The load balancer
 * controller adds one security group rule per range and listen port and skips IPv6 ranges on an IPv4-only
 * ALB; 22 ranges x 1 port stay well under the default 60 inbound rules per security group.
 */
export function defaultOriginCidrs(): string[] {
  const r = cloudflareRanges();
  return [...r.ipv4, ...r.ipv6];
}

/** Security group inbound rules per group (default quota); the controller needs one per CIDR and port. */
export const MAX_INBOUND_RULES = 60;
