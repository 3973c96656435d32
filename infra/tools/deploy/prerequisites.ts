/**
 * Step 0 of a deploy: what a fresh account needs that no stack can create, and the checks the deploy runs
 * before any preview or `up`. The operator's external secrets (a kubeconfig, the alert webhook URL, the
 * Cloudflare API token) are checked per stack, through the workspace (`pulumi config`) when the CLI is
 * there and from the stack files otherwise; the rest (CLI and login, credentials, images, certificates,
 * the Cloudflare zone) is listed, and checked where the stack files can tell (a certificate's region).
 * Leaves out: the shared secrets (dbPassword, redisAuthToken, adminApiKey, requestStateKeys), which the
 * primary generates (infra/regional/secrets/shared-secrets.ts), and stack creation (the deploy does it).
 */
import { isEncryptedValue } from '../mock-run.js';
import { SHARED_SECRETS } from '../../regional/secrets/shared-secrets.js';
import type { DeployTarget, StackConfigs } from './order.js';
import type { ConfigStatus } from './workspace.js';

/** One secret the operator must set on one stack. */
export interface OperatorSecret {
  readonly stack: string;
  /** Full config key, e.g. `cloudflare:apiToken`. */
  readonly key: string;
  /** Why this stack needs it. */
  readonly why: string;
  /** The command that sets it. */
  readonly command: string;
}

/** What step 0 lists: the operator's secrets, other prerequisites, and problems found in the stack files. */
export interface Prerequisites {
  readonly secrets: readonly OperatorSecret[];
  /** One line each: what must exist before the deploy (and what the deploy does itself). */
  readonly notes: readonly string[];
  /** Contradictions the stack files show (the deploy stops before any preview). */
  readonly problems: readonly string[];
}

/** A config value as the stack file (parsed YAML) or `pulumi config --json` (JSON text) holds it. */
function value(config: Record<string, unknown> | undefined, key: string): any {
  const v = config?.[key];
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const secretCommand = (key: string, placeholder: string, stack: string) => `pulumi config set --secret ${key} ${placeholder} --stack ${stack}`;

/** The external secrets `t` needs, decided by its plain config (file values or `pulumi config` values). */
export function requiredOperatorSecrets(t: DeployTarget, config: Record<string, unknown> | undefined): OperatorSecret[] {
  const out: OperatorSecret[] = [];
  const add = (key: string, placeholder: string, why: string) => out.push({ stack: t.name, key, why, command: secretCommand(key, placeholder, t.name) });
  if (t.role === 'global') {
    add(
      'cloudflare:apiToken',
      '<token>',
      'the Cloudflare API token (Zone Load Balancers, Zone Settings, Zone WAF, Cache Rules, Account Load Balancing: Monitors and Pools, Notifications)',
    );
    return out;
  }
  if (value(config, 'unified-mcp:cluster')?.mode === 'existing')
    add('unified-mcp:kubeconfig', '"$(cat <kubeconfig file>)"', 'cluster.mode is existing: the kubeconfig of that cluster');
  if (value(config, 'unified-mcp:alerting')?.webhook === true)
    add('unified-mcp:alertWebhookUrl', '<https://... webhook URL>', 'alerting.webhook is true: the URL Alertmanager posts to');
  return out;
}

/** Config status as the stack file shows it: encrypted values are set secrets, the rest plain. */
export function configStatusFromFile(config: Record<string, unknown> | undefined): ConfigStatus {
  const status: Record<string, { secret: boolean; value?: string }> = {};
  for (const [k, v] of Object.entries(config ?? {})) {
    status[k] = isEncryptedValue(v) ? { secret: true } : { secret: false, value: typeof v === 'string' ? v : JSON.stringify(v) };
  }
  return status;
}

/** The required external secrets of `t` that `status` does not hold as a non-empty secret. */
export function missingOperatorSecrets(t: DeployTarget, status: ConfigStatus): OperatorSecret[] {
  const plain = Object.fromEntries(
    Object.entries(status)
      .filter(([, s]) => !s.secret)
      .map(([k, s]) => [k, s.value]),
  );
  return requiredOperatorSecrets(t, plain).filter((s) => {
    const found = status[s.key];
    return !found || !found.secret || found.value === '';
  });
}

/** `arn:aws:acm:<region>:...` → region. */
const arnRegion = (arn: string) => arn.split(':')[3];

/** Step 0 of the deploy of `targets`, from the stack files. */
export function prerequisites(targets: readonly DeployTarget[], configs: StackConfigs): Prerequisites {
  const secrets = targets.flatMap((t) => requiredOperatorSecrets(t, configs[t.name]));
  const regional = targets.filter((t) => t.role !== 'global');
  const notes: string[] = [];
  const problems: string[] = [];
  notes.push(
    'the pulumi CLI on PATH and `pulumi login` to the state backend (with its secrets provider); the deploy creates every missing stack ' +
      `(${targets.map((t) => t.name).join(', ')}) with its config from stacks/Pulumi.<stack>.yaml: no \`pulumi stack init\``,
  );
  const regions = [
    ...new Set(regional.flatMap((t) => [t.region, value(configs[t.name], 'unified-mcp:peerRegion')]).filter((r): r is string => typeof r === 'string')),
  ];
  if (regional.length)
    notes.push(
      `AWS credentials of the target account for ${regions.join(', ')} (the default chain: AWS_PROFILE, environment, SSO), and the aws CLI (the kubeconfig runs \`aws eks get-token\`)`,
    );
  const images = [
    ...new Set(
      regional.flatMap((t) => {
        const app = value(configs[t.name], 'unified-mcp:app');
        return [app?.gateway?.image, app?.worker?.image].filter((i): i is string => typeof i === 'string');
      }),
    ),
  ];
  if (images.length) notes.push(`container images built from the service's Dockerfiles and pushed, tags as pinned in the stack files: ${images.join(', ')}`);
  for (const t of regional) {
    const app = value(configs[t.name], 'unified-mcp:app');
    const alb = (app?.ingressClassName ?? 'alb') === 'alb';
    const arn: unknown = app?.certificateArn;
    if (typeof arn === 'string') {
      notes.push(`an issued ACM certificate for ${app?.hostname} in ${t.region}: ${arn}`);
      if (alb && t.region && arnRegion(arn) !== t.region) {
        problems.push(
          `${t.name}: unified-mcp:app.certificateArn is in ${arnRegion(arn)}, but the ALB is in ${t.region}: ACM certificates must be in the load balancer's region`,
        );
      }
    }
  }
  for (const t of targets.filter((x) => x.role === 'global')) {
    const c = configs[t.name];
    notes.push(
      `the Cloudflare zone ${value(c, 'unified-mcp:domain')} (zoneId ${value(c, 'unified-mcp:zoneId')}) active in account ${value(c, 'unified-mcp:accountId')}, with Load Balancing enabled`,
    );
  }
  const primaries = regional.filter((t) => t.role === 'primary').map((t) => t.name);
  const secondaries = regional.filter((t) => t.role === 'secondary').map((t) => t.name);
  notes.push(
    `not needed: ${SHARED_SECRETS.join(', ')} are generated by ${primaries.join(', ')}` +
      `${secondaries.length ? ` and read by ${secondaries.join(', ')} through its StackReference` : ''}; set one with --secret on the primary only to choose or rotate it`,
  );
  return { secrets, notes, problems };
}

/**
 * Step 0 as printed. With `missing` (checked through `pulumi config`, or read from the stack files, as
 * `source` says) each secret is marked set or missing; without it they are what the deploy will check.
 */
export function renderPrerequisites(p: Prerequisites, missing?: { secrets: readonly OperatorSecret[]; source: string }): string[] {
  const lines = [
    '  0. prerequisites (outside Pulumi; before any preview or up the deploy checks the secrets below and the problems, and stops naming what is missing):',
  ];
  for (const n of p.notes) lines.push(`     - ${n}`);
  if (p.secrets.length) {
    lines.push(
      `     - the operator's secrets (external credentials no stack can generate)${missing ? `; [set]/[missing] as found in ${missing.source}` : ''}:`,
    );
    for (const s of p.secrets) {
      const mark = !missing ? '' : missing.secrets.some((m) => m.stack === s.stack && m.key === s.key) ? '  [missing]' : '  [set]';
      lines.push(`         ${s.command}${mark}   # ${s.why}`);
    }
  }
  for (const problem of p.problems) lines.push(`     - PROBLEM: ${problem}`);
  return lines;
}
