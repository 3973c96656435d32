/**
 * Writes of an Aurora global database member go to the global writer endpoint. A regional endpoint is tied to
 * one cluster's role: in a secondary region the RDS Proxy default endpoint and the cluster endpoint have no
 * read/write instance ("The target group doesn't have any associated read/write instances"), and in the
 * primary region they stop accepting writes after a switchover or failover. docs/decisions.md.
 */
import type { PolicyTarget, StackFinding, StackRule } from '../types.js';
import { at, label } from '../util.js';

const CLUSTER = 'aws:rds/cluster:Cluster';
const GLOBAL_CLUSTER = 'aws:rds/globalCluster:GlobalCluster';
/** Environment keys holding a writer connection string, or a shard map of them. */
const WRITER_KEYS = ['DATABASE_URL'] as const;
const SHARD_MAP_KEYS = ['SHARDS'] as const;

/** What kind of regional RDS endpoint `host` is, or undefined when it is not one (global writer, own DNS name). */
export function regionalEndpointKind(host: string): string | undefined {
  const h = host.toLowerCase();
  if (!/\.rds\.amazonaws\.com(\.cn)?$/.test(h) || /\.global-[a-z0-9]+\.global\.rds\.amazonaws\.com(\.cn)?$/.test(h)) return undefined;
  if (/\.endpoint\.proxy-[a-z0-9]+\./.test(h)) return 'an RDS Proxy custom endpoint of this region';
  if (/\.proxy-[a-z0-9]+\./.test(h)) return 'the RDS Proxy default endpoint of this region';
  if (/\.cluster-ro-[a-z0-9]+\./.test(h)) return 'the cluster reader endpoint of this region';
  if (/\.cluster-(custom-)?[a-z0-9]+\./.test(h)) return 'a cluster endpoint of this region';
  return 'an instance endpoint of this region';
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

const decode = (v: string, base64: boolean) => (base64 ? Buffer.from(v, 'base64').toString('utf8') : v);

/** `[where, url]` of every writer URL a ConfigMap, Secret or workload env declares. */
export function writerUrls(r: PolicyTarget): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const take = (where: string, key: string, raw: unknown) => {
    if (typeof raw !== 'string') return;
    if ((WRITER_KEYS as readonly string[]).includes(key)) found.push([where, raw]);
    if ((SHARD_MAP_KEYS as readonly string[]).includes(key)) {
      let shards: unknown;
      try {
        shards = JSON.parse(raw);
      } catch {
        return;
      }
      if (!Array.isArray(shards)) return;
      shards.forEach((s, i) => {
        if (typeof s?.writerUrl === 'string') found.push([`${where}[${i}].writerUrl`, s.writerUrl]);
      });
    }
  };
  if (r.type === 'kubernetes:core/v1:ConfigMap' || r.type === 'kubernetes:core/v1:Secret') {
    for (const [field, base64] of [
      ['data', r.type.endsWith(':Secret')],
      ['stringData', false],
    ] as const) {
      const map = r.props[field];
      if (!map || typeof map !== 'object') continue;
      for (const [k, v] of Object.entries(map)) if (typeof v === 'string') take(`${field}.${k}`, k, decode(v, base64));
    }
    return found;
  }
  const podSpec = at(r.props, 'spec.template.spec') ?? at(r.props, 'spec.jobTemplate.spec.template.spec');
  for (const c of [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])]) {
    for (const e of c?.env ?? []) take(`container "${c?.name}" env ${e?.name}`, e?.name, e?.value);
  }
  return found;
}

/** In a stack whose Aurora cluster belongs to a global database, no writer URL names a regional endpoint. */
export const globalWriterEndpoint: StackRule = {
  kind: 'stack',
  name: 'global-database-writer-endpoint',
  description:
    'In a stack whose Aurora cluster is part of a global database, DATABASE_URL and every SHARDS writerUrl use the global writer endpoint, never a regional RDS Proxy, cluster or instance endpoint (no writer in a secondary; none after a switchover in the primary).',
  level: 'mandatory',
  check(resources) {
    const members = resources.filter((r) => r.type === CLUSTER && r.props['globalClusterIdentifier']);
    if (members.length === 0) return [];
    const ownsGlobal = resources.some((r) => r.type === GLOBAL_CLUSTER);
    const role = ownsGlobal ? 'global primary (its writer moves on a switchover or failover)' : 'global secondary (no writer in this region)';
    const findings: StackFinding[] = [];
    for (const r of resources) {
      for (const [where, url] of writerUrls(r)) {
        const host = hostOf(url);
        const kind = host ? regionalEndpointKind(host) : undefined;
        if (!kind) continue;
        findings.push({
          resource: r,
          message:
            `${label(r)}: ${where}: the stack's Aurora cluster ${members[0]!.name} is a ${role}: expected the global writer endpoint ` +
            `(<global-cluster>.global-<id>.global.rds.amazonaws.com), found ${kind} "${host}".`,
        });
      }
    }
    return findings;
  },
};
