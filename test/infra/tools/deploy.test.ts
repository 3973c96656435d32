import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { crossCheck, deployOrder, readAllStackConfigs, type DeployTarget } from '../../../infra/tools/deploy/order.js';
import { runDeploy } from '../../../infra/tools/deploy/orchestrate.js';
import { deploySteps, renderPlan } from '../../../infra/tools/deploy/steps.js';
import { StackMissingError, type ConfigStatus, type DeployStack, type DeployWorkspace, type StackOutputs } from '../../../infra/tools/deploy/workspace.js';
import { configStatusFromFile, missingOperatorSecrets, prerequisites, renderPrerequisites } from '../../../infra/tools/deploy/prerequisites.js';
import { PulumiCliMissingError, requirePulumiCli } from '../../../infra/tools/deploy/automation-workspace.js';
import { renderReport } from '../../../infra/tools/deploy.js';

/** Every stack's operator secrets set (the Cloudflare token; the fixtures' regional configs need none). */
const ALL_SET: ConfigStatus = { 'cloudflare:apiToken': { secret: true } };

/** A fake workspace that records every call in one log, and fails where told. */
class FakeWorkspace implements DeployWorkspace {
  readonly log: string[] = [];
  /** Stacks that exist in the fake backend; `undefined`: all of them. */
  readonly existing?: Set<string>;
  constructor(
    private readonly upOutputs: Record<string, StackOutputs> = {},
    private readonly failures: Record<string, 'select' | 'preview' | 'up'> = {},
    private readonly existingOutputs: Record<string, StackOutputs> = {},
    private readonly more: { stacks?: string[]; config?: Record<string, ConfigStatus> } = {},
  ) {
    if (more.stacks) this.existing = new Set(more.stacks);
  }
  async selectStack(name: string, opts: { create?: boolean } = {}): Promise<DeployStack> {
    this.log.push(`select ${name}`);
    if (this.failures[name] === 'select') throw new Error(`stack "${name}" cannot be selected: backend unreachable`);
    if (this.existing && !this.existing.has(name)) {
      if (!opts.create) throw new StackMissingError(name);
      this.log.push(`create ${name}`);
      this.existing.add(name);
    }
    const ws = this;
    return {
      name,
      async configStatus() {
        return ws.more.config?.[name] ?? ALL_SET;
      },
      async preview() {
        ws.log.push(`preview ${name}`);
        if (ws.failures[name] === 'preview') throw new Error(`preview of ${name} failed: boom`);
        return { changes: { create: 2 } };
      },
      async up() {
        ws.log.push(`up ${name}`);
        if (ws.failures[name] === 'up') throw new Error(`update of ${name} failed: quota exceeded`);
        return { changes: { create: 2 }, outputs: ws.upOutputs[name] ?? {} };
      },
      async outputs() {
        return ws.existingOutputs[name] ?? {};
      },
    };
  }
}

const TARGETS: DeployTarget[] = [
  { name: 'prod-us-east-1', role: 'primary', region: 'us-east-1' },
  { name: 'prod-eu-west-1', role: 'secondary', region: 'eu-west-1' },
  { name: 'prod-global', role: 'global' },
];
const PRIMARY_OUT: StackOutputs = {
  cacheGlobalReplicationGroupId: { value: 'ldgnf-umcp-cache', secret: false },
  region: { value: 'us-east-1', secret: false },
  vpcId: { value: 'vpc-1', secret: false },
  globalWriterEndpoints: { value: { 0: 'w' }, secret: false },
  ...Object.fromEntries(['dbPassword', 'redisAuthToken', 'adminApiKey', 'requestStateKeys'].map((k) => [k, { value: '[secret]', secret: true }])),
};
const SECONDARY_OUT: StackOutputs = { region: { value: 'eu-west-1', secret: false } };
/** Every regional stack already deployed once (a re-run). */
const DEPLOYED = { 'prod-us-east-1': PRIMARY_OUT, 'prod-eu-west-1': SECONDARY_OUT };
describe('deploy orchestrator', () => {
  describe('deployOrder', () => {
    it('orders primary, secondaries, then global, for the chosen environment only', () => {
      const order = deployOrder('prod', {
        'prod-global': { 'unified-mcp:role': 'global', 'unified-mcp:environment': 'prod' },
        'prod-eu-west-1': {
          'unified-mcp:role': 'regional',
          'unified-mcp:environment': 'prod',
          'unified-mcp:isPrimary': false,
          'unified-mcp:region': 'eu-west-1',
        },
        'prod-us-east-1': { 'unified-mcp:role': 'regional', 'unified-mcp:environment': 'prod', 'unified-mcp:region': 'us-east-1' },
        dev: { 'unified-mcp:role': 'regional', 'unified-mcp:environment': 'dev' },
      });
      assert.deepEqual(order, TARGETS);
    });
    it('refuses an environment without a primary regional stack, naming the fix', () => {
      assert.throws(
        () => deployOrder('prod', { x: { 'unified-mcp:role': 'regional', 'unified-mcp:environment': 'prod', 'unified-mcp:isPrimary': false } }),
        /no primary regional stack/,
      );
      assert.throws(
        () => deployOrder('staging', { dev: { 'unified-mcp:role': 'regional', 'unified-mcp:environment': 'dev' } }),
        /no regional stack has unified-mcp:environment "staging"/,
      );
    });
  });

  describe('crossCheck', () => {
    it('warns when the global stack misses a region, lists a stranger, or disagrees on a region', () => {
      const regions = [
        { stack: 'org/unified-mcp/prod-us-east-1', region: 'us-east-1' },
        { stack: 'org/unified-mcp/prod-ap-1', region: 'ap-south-1' },
      ];
      const warnings = crossCheck(TARGETS, { 'prod-global': { 'unified-mcp:regions': regions } });
      assert.deepEqual(warnings, [
        'prod-global: unified-mcp:regions does not list prod-eu-west-1; that region would get no traffic',
        'prod-global: lists org/unified-mcp/prod-ap-1, which is not a regional stack of this environment',
      ]);
      const ok = [
        { stack: 'prod-us-east-1', region: 'us-east-1' },
        { stack: 'o/p/prod-eu-west-1', region: 'eu-west-1' },
      ];
      assert.deepEqual(crossCheck(TARGETS, { 'prod-global': { 'unified-mcp:regions': ok } }), []);
      assert.match(
        crossCheck(TARGETS, { 'prod-global': { 'unified-mcp:regions': [ok[0], { ...ok[1], region: 'eu-central-1' }] } })[0]!,
        /as region eu-central-1, but the stack is in eu-west-1/,
      );
    });
  });

  describe('runDeploy', () => {
    it('on a re-run previews every stack first, then updates primary, secondary, global in that order', async () => {
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT }, {}, DEPLOYED);
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, true);
      const ops = ws.log.filter((l) => /^(preview|up) /.test(l));
      assert.deepEqual(ops, [
        'preview prod-us-east-1',
        'preview prod-eu-west-1',
        'preview prod-global',
        'up prod-us-east-1',
        'up prod-eu-west-1',
        'up prod-global',
      ]);
      assert.deepEqual(report.outputs['prod-us-east-1'], PRIMARY_OUT);
    });
    it('on a fresh account previews the primary first, and each later stack right before its up, after what it reads', async () => {
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT, 'prod-eu-west-1': SECONDARY_OUT });
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, true);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        ['preview prod-us-east-1', 'up prod-us-east-1', 'preview prod-eu-west-1', 'up prod-eu-west-1', 'preview prod-global', 'up prod-global'],
      );
      assert.match(report.steps.find((s) => s.stack === 'prod-eu-west-1' && s.status === 'skipped')!.detail, /deferred: needs outputs of prod-us-east-1/);
      assert.match(report.steps.find((s) => s.stack === 'prod-global' && s.status === 'skipped')!.detail, /prod-us-east-1, prod-eu-west-1/);
    });
    it('a fresh-account dry run previews the primary and says why the others wait', async () => {
      const ws = new FakeWorkspace();
      const report = await runDeploy(TARGETS, ws, { dryRun: true });
      assert.equal(report.ok, true);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        ['preview prod-us-east-1'],
      );
      assert.match(
        report.steps.find((s) => s.stack === 'prod-eu-west-1' && s.phase === 'preview')!.detail,
        /needs outputs of prod-us-east-1, not deployed yet/,
      );
    });
    it('on an empty backend creates every stack (create-or-select) before anything else, then deploys in order', async () => {
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT, 'prod-eu-west-1': SECONDARY_OUT }, {}, {}, { stacks: [] });
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, true);
      assert.deepEqual(
        ws.log.filter((l) => /^(create|preview|up) /.test(l)),
        [
          'create prod-us-east-1',
          'create prod-eu-west-1',
          'create prod-global',
          'preview prod-us-east-1',
          'up prod-us-east-1',
          'preview prod-eu-west-1',
          'up prod-eu-west-1',
          'preview prod-global',
          'up prod-global',
        ],
      );
    });
    it('a dry run on an empty backend creates nothing, checks the secrets in the stack files and says the deploy creates the stacks', async () => {
      const ws = new FakeWorkspace({}, {}, {}, { stacks: [] });
      const files = { 'prod-global': { 'cloudflare:apiToken': { secure: 'v1:abc' } } };
      const report = await runDeploy(TARGETS, ws, { dryRun: true, stackFiles: files });
      assert.equal(report.ok, true, JSON.stringify(report.steps));
      assert.deepEqual(
        ws.log.filter((l) => /^(create|preview|up) /.test(l)),
        [],
      );
      assert.match(
        report.steps.find((s) => s.stack === 'prod-us-east-1' && s.phase === 'select')!.detail,
        /does not exist yet: the deploy creates it \(config from stacks\/Pulumi\.prod-us-east-1\.yaml\)/,
      );
      const missing = await runDeploy(TARGETS, new FakeWorkspace({}, {}, {}, { stacks: [] }), { dryRun: true, stackFiles: {} });
      assert.deepEqual(
        missing.missingSecrets.map((m) => m.command),
        ['pulumi config set --secret cloudflare:apiToken <token> --stack prod-global'],
      );
    });
    it("checks every stack's operator secrets before any preview or up, and names the missing commands", async () => {
      const regionalNeeds = { 'unified-mcp:alerting': { secret: false, value: JSON.stringify({ webhook: true }) } };
      const config: Record<string, ConfigStatus> = {
        'prod-us-east-1': { ...regionalNeeds, 'unified-mcp:alertWebhookUrl': { secret: true } },
        'prod-eu-west-1': { ...regionalNeeds, 'unified-mcp:alertWebhookUrl': { secret: false, value: 'https://in-the-clear' } },
        'prod-global': {},
      };
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT }, {}, DEPLOYED, { config });
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, false);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        [],
        'nothing ran',
      );
      assert.deepEqual(
        report.missingSecrets.map((m) => m.command),
        [
          'pulumi config set --secret unified-mcp:alertWebhookUrl <https://... webhook URL> --stack prod-eu-west-1',
          'pulumi config set --secret cloudflare:apiToken <token> --stack prod-global',
        ],
      );
      assert.deepEqual(
        report.steps.filter((s) => s.phase === 'prerequisites').map((s) => [s.stack, s.status]),
        [
          ['prod-us-east-1', 'ok'],
          ['prod-eu-west-1', 'failed'],
          ['prod-global', 'failed'],
        ],
      );
      assert.match(renderReport(TARGETS, report), /STOPPED at prerequisites of prod-eu-west-1: missing secret: unified-mcp:alertWebhookUrl/);
    });
    it("defers the secondary's preview while its primary lacks the shared-secret outputs (deployed by an older version)", async () => {
      const old = { ...PRIMARY_OUT };
      delete old['requestStateKeys'];
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT }, {}, { ...DEPLOYED, 'prod-us-east-1': old });
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, true);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        ['preview prod-us-east-1', 'preview prod-global', 'up prod-us-east-1', 'preview prod-eu-west-1', 'up prod-eu-west-1', 'up prod-global'],
      );
    });
    it('stops before the update when a deferred preview fails', async () => {
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT }, { 'prod-eu-west-1': 'preview' });
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, false);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        ['preview prod-us-east-1', 'up prod-us-east-1', 'preview prod-eu-west-1'],
      );
    });
    it('previews a re-run secondary up front: it reads the deployed primary through its StackReference', async () => {
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT }, {}, DEPLOYED);
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, true);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        ['preview prod-us-east-1', 'preview prod-eu-west-1', 'preview prod-global', 'up prod-us-east-1', 'up prod-eu-west-1', 'up prod-global'],
      );
    });
    it('stops at the first failed update and skips the rest', async () => {
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT }, { 'prod-eu-west-1': 'up' }, DEPLOYED);
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, false);
      assert.equal(ws.log.includes('up prod-global'), false);
      const ups = report.steps.filter((s) => s.phase === 'up').map((s) => [s.stack, s.status]);
      assert.deepEqual(ups, [
        ['prod-us-east-1', 'ok'],
        ['prod-eu-west-1', 'failed'],
        ['prod-global', 'skipped'],
      ]);
      const text = renderReport(TARGETS, report);
      assert.match(text, /STOPPED at up of prod-eu-west-1: update of prod-eu-west-1 failed: quota exceeded/);
      assert.match(text, /prod-global\s+global\s+up\s+skipped/);
    });
    it('never updates anything when a preview fails', async () => {
      const ws = new FakeWorkspace({}, { 'prod-global': 'preview' }, DEPLOYED);
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, false);
      assert.equal(
        ws.log.some((l) => l.startsWith('up ')),
        false,
      );
      assert.deepEqual(
        report.steps.filter((s) => s.status === 'failed').map((s) => [s.stack, s.phase]),
        [['prod-global', 'preview']],
      );
    });
    it('reports a stack that cannot be selected, before any preview', async () => {
      const ws = new FakeWorkspace({}, { 'prod-eu-west-1': 'select' });
      const report = await runDeploy(TARGETS, ws);
      assert.equal(report.ok, false);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        [],
      );
      assert.match(report.steps.find((s) => s.status === 'failed')!.detail, /cannot be selected: backend unreachable/);
    });
    it('dry run previews all stacks and never calls up', async () => {
      const ws = new FakeWorkspace({ 'prod-us-east-1': PRIMARY_OUT }, {}, DEPLOYED);
      const report = await runDeploy(TARGETS, ws, { dryRun: true });
      assert.equal(report.ok, true);
      assert.equal(report.dryRun, true);
      assert.deepEqual(
        ws.log.filter((l) => /^(preview|up) /.test(l)),
        ['preview prod-us-east-1', 'preview prod-eu-west-1', 'preview prod-global'],
      );
      assert.match(renderReport(TARGETS, report), /Dry run succeeded: prod-us-east-1 -> prod-eu-west-1 -> prod-global/);
    });
  });

  describe('the plan (deploy --dry-run)', () => {
    const configs = readAllStackConfigs();
    const steps = deploySteps(deployOrder('prod', configs), configs);
    it("starts with the prerequisites: the operator's secrets per stack, images, certificates, zone; the shared secrets are not among them", () => {
      const pre = prerequisites(deployOrder('prod', configs), configs);
      assert.deepEqual(
        pre.secrets.map((x) => [x.stack, x.key]),
        [
          ['prod-us-east-1', 'unified-mcp:alertWebhookUrl'],
          ['prod-eu-west-1', 'unified-mcp:alertWebhookUrl'],
          ['prod-global', 'cloudflare:apiToken'],
        ],
      );
      assert.deepEqual(pre.problems, []);
      const notes = pre.notes.join('\n');
      for (const re of [
        /pulumi login/,
        /creates every missing stack .*no `pulumi stack init`/,
        /AWS credentials .* us-east-1, eu-west-1/,
        /umcp-gateway:1\.0\.0/,
        /ACM certificate for us\.mcp\.example\.com in us-east-1/,
        /Cloudflare zone example\.com/,
        /not needed: dbPassword, redisAuthToken, adminApiKey, requestStateKeys are generated by prod-us-east-1 and read by prod-eu-west-1/,
      ]) {
        assert.match(notes, re);
      }
      const dev = prerequisites(deployOrder('dev', configs), configs);
      assert.deepEqual(
        dev.secrets.map((x) => x.key),
        ['unified-mcp:kubeconfig', 'unified-mcp:alertWebhookUrl'],
      );
      assert.match(dev.notes.join('\n'), /generated by dev;/);
    });
    it("stops on a certificate outside the ALB's region", () => {
      const app = { ...(configs['prod-eu-west-1']!['unified-mcp:app'] as object), certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' };
      const bad = { ...configs, 'prod-eu-west-1': { ...configs['prod-eu-west-1'], 'unified-mcp:app': app } };
      assert.deepEqual(prerequisites(deployOrder('prod', bad), bad).problems, [
        "prod-eu-west-1: unified-mcp:app.certificateArn is in us-east-1, but the ALB is in eu-west-1: ACM certificates must be in the load balancer's region",
      ]);
    });
    it('marks a secret set when the stack file holds it encrypted (pulumi config set --secret writes it there)', () => {
      const t: DeployTarget = { name: 'prod-global', role: 'global' };
      assert.deepEqual(missingOperatorSecrets(t, configStatusFromFile({ 'cloudflare:apiToken': { secure: 'v1:x' } })), []);
      assert.equal(missingOperatorSecrets(t, configStatusFromFile({ 'cloudflare:apiToken': 'plain' })).length, 1, 'plain text is not set');
      const pre = prerequisites([t], { 'prod-global': {} });
      const lines = renderPrerequisites(pre, { secrets: missingOperatorSecrets(t, {}), source: 'the stack files' }).join('\n');
      assert.match(lines, /pulumi config set --secret cloudflare:apiToken <token> --stack prod-global {2}\[missing\]/);
      assert.doesNotMatch(renderPrerequisites(pre).join('\n'), /\[missing\]|\[set\]/, 'without a check: listed as what the deploy checks');
    });
    it('lists every step a fresh account needs for prod, in order, including the cross-region ones', () => {
      assert.deepEqual(
        steps.map((s) => [s.n, s.stack, s.role]),
        [
          [1, 'prod-us-east-1', 'primary'],
          [2, 'prod-eu-west-1', 'secondary'],
          [3, 'prod-global', 'global'],
        ],
      );
      assert.match(
        steps[0]!.text,
        /^up prod-us-east-1 \(primary, us-east-1: .*Aurora global databases umcp-prod-shard-0, umcp-prod-shard-1.*cache global datastore.*no replication yet.*exports globalWriterEndpoints, cacheGlobalReplicationGroupId/,
      );
      assert.match(
        steps[1]!.text,
        /^up prod-eu-west-1 \(secondary, eu-west-1: reads <org>\/unified-mcp\/prod-us-east-1 through a StackReference .*joins the Aurora global databases.*peers its VPC with us-east-1.*S3 replication umcp-prod-objects-eu-west-1 -> umcp-prod-objects-us-east-1 and umcp-prod-objects-us-east-1 -> umcp-prod-objects-eu-west-1/,
      );
      assert.match(steps[2]!.text, /^up prod-global \(global: .*reads prod-us-east-1, prod-eu-west-1 through StackReferences/);
      assert.match(
        steps[0]!.text,
        /generates the shared secrets its config does not set; .*as secret outputs, dbPassword, redisAuthToken, adminApiKey, requestStateKeys for its secondary/,
      );
      assert.match(steps[1]!.text, /the shared secrets dbPassword, redisAuthToken, adminApiKey, requestStateKeys, still secret/);
      const text = renderPlan('prod', steps);
      assert.doesNotMatch(text, /by hand|manually|copy|pulumi config set|stack init/i, 'the numbered steps hold no manual one');
    });
    it('is printed by `deploy --env prod --dry-run` without the pulumi CLI, which then says previews need it (exit 0)', function () {
      this.timeout(60000);
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/tools/deploy.ts', '--env', 'prod', '--dry-run'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: dirname(process.execPath) },
      });
      assert.equal(r.status, 0, r.stderr);
      const at = (s: string) => r.stdout.indexOf(s);
      assert.ok(at('0. prerequisites') >= 0 && at('0. prerequisites') < at('1. up prod-us-east-1'), r.stdout);
      assert.ok(
        at('1. up prod-us-east-1') >= 0 && at('1. up prod-us-east-1') < at('2. up prod-eu-west-1') && at('2. up prod-eu-west-1') < at('3. up prod-global'),
        r.stdout,
      );
      assert.match(r.stdout, /pulumi config set --secret cloudflare:apiToken <token> --stack prod-global {2}\[missing\]/);
      assert.match(r.stdout, /Stacks: each one missing in the backend is created first/);
      assert.match(r.stdout, /Previews skipped: they need the pulumi CLI/);
    });
    it('without --dry-run and without the CLI prints the plan, then exits 3', function () {
      this.timeout(60000);
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/tools/deploy.ts', '--env', 'prod'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: dirname(process.execPath) },
      });
      assert.equal(r.status, 3);
      assert.match(r.stdout, /1\. up prod-us-east-1/);
      assert.match(r.stderr, /not installed or not on PATH/);
    });
  });

  describe('requirePulumiCli', () => {
    it('explains how to install the CLI when it is missing', () => {
      assert.throws(
        () => requirePulumiCli('pulumi-does-not-exist-here'),
        (err: Error) => err instanceof PulumiCliMissingError && /not installed or not on PATH.*pulumi login/.test(err.message),
      );
    });
  });
});
