/**
 * The deploy plan in words: every step a fresh account needs, in order, with what each stack creates and
 * reads from the stacks before it. Read from the stack files only (no Pulumi CLI, no cloud), so
 * `npm run deploy -- --dry-run` prints it anywhere. Nothing here is a manual step: each numbered line is one
 * `up` the orchestrator runs; what must exist before (step 0) is prerequisites.ts.
 */
import type { DeployTarget, StackConfigs } from './order.js';
import { dependenciesOf } from './orchestrate.js';
import { SHARED_SECRETS } from '../../regional/secrets/shared-secrets.js';

/** One numbered step of the plan. */
export interface PlanStep {
  readonly n: number;
  readonly stack: string;
  readonly role: DeployTarget['role'];
  /** One line: `up <stack> (<role>, <region>: what it creates and reads)`. */
  readonly text: string;
}

const get = (c: Record<string, unknown> | undefined, key: string): any => c?.[`unified-mcp:${key}`];

/** `<org>/<project>/<stack>` as the program derives it (the org is the backend's, unknown offline). */
function refName(stack: string, c: Record<string, unknown> | undefined): string {
  return typeof get(c, 'peerStack') === 'string' ? get(c, 'peerStack') : `<org>/unified-mcp/${stack}`;
}

function regionalParts(c: Record<string, unknown> | undefined) {
  const name = `${get(c, 'prefix') ?? 'umcp'}-${get(c, 'environment')}`;
  const shards: string[] = get(c, 'database')?.shards ?? ['0'];
  const globalIds = shards.map((id) => `${name}-shard-${id}`).join(', ');
  const bucket = (region?: string) => `${get(c, 'storage')?.bucketPrefix ?? '?'}-${region ?? '?'}`;
  const cluster = get(c, 'cluster')?.mode === 'existing' ? 'workloads on the existing cluster (kubeconfig secret)' : 'EKS + add-ons';
  return { name, globalIds, bucket, cluster, peer: get(c, 'peerRegion') as string | undefined, cidr: get(c, 'network')?.cidr as string | undefined };
}

/** The plan of a deploy of `targets` (already in order). */
export function deploySteps(targets: readonly DeployTarget[], configs: StackConfigs): PlanStep[] {
  return targets.map((t, i) => {
    const c = configs[t.name];
    let text: string;
    if (t.role === 'global') {
      const listed = (Array.isArray(get(c, 'regions')) ? get(c, 'regions') : []) as { stack?: unknown }[];
      const regions = (listed.length ? listed.map((l) => String(l.stack)) : dependenciesOf(t, targets).map((d) => refName(d.name, undefined))).join(', ');
      text = `up ${t.name} (global: Cloudflare load balancer, monitors and pools, edge rules; reads ${regions || 'the regional stacks'} through StackReferences)`;
    } else {
      const p = regionalParts(c);
      if (t.role === 'primary' && p.peer) {
        text =
          `up ${t.name} (primary, ${t.region}: VPC ${p.cidr}, ${p.cluster}, Aurora global databases ${p.globalIds} (primary clusters; ` +
          `their global writer endpoints are every region's DATABASE_URL/SHARDS writers), ElastiCache state group + cache global datastore, ` +
          `S3 bucket ${p.bucket(t.region)} (no replication yet: its peer does not exist), workloads; generates the shared secrets its config does not set; ` +
          `exports globalWriterEndpoints, cacheGlobalReplicationGroupId, bucketArn/bucketKmsKeyArn, vpcId/vpcCidr/privateRouteTableIds and, as secret outputs, ` +
          `${SHARED_SECRETS.join(', ')} for its secondary)`;
      } else if (t.role === 'primary') {
        text =
          `up ${t.name} (single region, ${t.region}: VPC ${p.cidr}, ${p.cluster}, Aurora clusters (shards ${p.globalIds}) behind RDS Proxy, ` +
          `ElastiCache state + cache, S3 bucket ${p.bucket(t.region)}, workloads; generates the shared secrets its config does not set)`;
      } else {
        const primary = targets.find((s) => s.role === 'primary' && s.region === p.peer) ?? targets.find((s) => s.role === 'primary');
        const ref = refName(primary?.name ?? `${get(c, 'environment')}-${p.peer}`, c);
        text =
          `up ${t.name} (secondary, ${t.region}: reads ${ref} through a StackReference (global writer endpoints, cache datastore id, ` +
          `bucket + KMS key, VPC, and the shared secrets ${SHARED_SECRETS.join(', ')}, still secret); VPC ${p.cidr}, ${p.cluster}; joins the Aurora global databases ${p.globalIds} and the cache global ` +
          `datastore; peers its VPC with ${p.peer} (request, acceptance, routes both ways); creates S3 replication ` +
          `${p.bucket(t.region)} -> ${p.bucket(p.peer)} and ${p.bucket(p.peer)} -> ${p.bucket(t.region)}; workloads writing through the global writer endpoints)`;
      }
    }
    return { n: i + 1, stack: t.name, role: t.role, text };
  });
}

/**
 * The plan as printed: step 0 (prerequisites, renderPrerequisites' lines) when given, the numbered `up`s,
 * then how stack creation, previews and re-runs behave.
 */
export function renderPlan(environment: string, steps: readonly PlanStep[], prerequisiteLines: readonly string[] = []): string {
  return [
    `Deploy plan for environment "${environment}" (from the stack files; after the prerequisites, a fresh account needs exactly these steps, each run by the deploy, no manual one):`,
    ...prerequisiteLines,
    ...steps.map((s) => `  ${s.n}. ${s.text}`),
    '  Stacks: each one missing in the backend is created first (create-or-select, config from stacks/Pulumi.<stack>.yaml); a dry run creates none.',
    '  Previews: a stack whose StackReferences have no outputs yet (fresh account) is previewed right before its up.',
    '  Re-runs: the same order; each stack reads the current outputs of the stacks before it, so a re-run changes nothing that is in place.',
  ].join('\n');
}
