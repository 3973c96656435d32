/**
 * Alert delivery and runbooks: every alert links to a section of docs/operations.md that exists; the
 * AlertmanagerConfig routes pages and tickets to the receivers of the stack config; the webhook URL is a
 * secret that only a Secret holds; the SNS topic is KMS-encrypted and the Alertmanager's Pod Identity role
 * may publish to that topic (and use its key through SNS) and nothing else; the chart's Alertmanager selects
 * the config; an existing cluster still gets its AlertmanagerConfig; config rejects a prod stack without a receiver.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALERTMANAGER_SERVICE_ACCOUNT } from '../../../infra/regional/cluster/index.js';
import {
  ALERTMANAGER_CONFIG_LABELS,
  ALERT_WEBHOOK_SECRET,
  alertRules,
  checkAlertReceivers,
  DEFAULT_RUNBOOK_BASE_URL,
  RECEIVER_NAMES,
  RUNBOOK_DOC,
} from '../../../infra/regional/app/index.js';
import { checkAlertTopicArgs } from '../../../infra/regional/alerting/index.js';
import { MOCK_SECRETS, readStackConfig, runStackUnderMocks, type MockedResource, type MockRunResult } from '../../../infra/tools/mock-run.js';
import { failure, isProd, ofType, one, REGIONAL_STACKS, runStack } from '../support/stacks.js';

const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const WEBHOOK_URL = MOCK_SECRETS['unified-mcp:alertWebhookUrl']!;

/** GitHub's heading anchors of a Markdown file (lowercase, punctuation dropped, spaces to dashes, -N for repeats). */
function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/`/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

const ANCHORS = headingAnchors(readFileSync(join(REPO, RUNBOOK_DOC), 'utf8'));

const rulesOf = (r: MockRunResult) =>
  one(r, 'kubernetes:monitoring.coreos.com/v1:PrometheusRule').inputs.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules) as Array<{
    alert: string;
    expr: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }>;
const amConfig = (r: MockRunResult) => ofType(r, 'kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig');
const receiver = (cfg: MockedResource, name: string) => cfg.inputs.spec.receivers.find((x: { name: string }) => x.name === name);
const statements = (doc: string) =>
  (JSON.parse(doc) as { Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown }> }).Statement;

describe('alerting', () => {
  describe('runbook links', () => {
    it('every alert has a runbook_url whose anchor is a heading of docs/operations.md', () => {
      const rules = alertRules();
      assert.ok(rules.length >= 6);
      for (const rule of rules) {
        const url = new URL(rule.annotations.runbook_url);
        assert.equal(`${url.origin}${url.pathname}`, DEFAULT_RUNBOOK_BASE_URL);
        assert.ok(
          ANCHORS.has(url.hash.slice(1)),
          `${rule.alert}: ${RUNBOOK_DOC} has no heading with anchor ${url.hash} (add a runbook section named ${rule.alert})`,
        );
        assert.equal(rule.annotations['runbook'], undefined, 'one link annotation, the conventional runbook_url');
        assert.match(rule.annotations.description, /alerting\.thresholds\.\w+/, `${rule.alert}: the description names its threshold key`);
      }
    });

    it("every alert keeps the namespace label, so the namespace's AlertmanagerConfig (OnNamespace) routes it", () => {
      for (const rule of alertRules()) assert.match(rule.expr, /by \(namespace\b/, rule.alert);
    });

    it('is severity page or ticket, the two routes', () => {
      for (const rule of alertRules()) assert.ok(['page', 'ticket'].includes(rule.labels.severity), rule.alert);
    });
  });

  for (const stack of REGIONAL_STACKS) {
    describe(`stack ${stack}`, () => {
      it("links every alert to the runbook under the stack's runbookBaseUrl", async () => {
        const r = await runStack(stack);
        const base = (readStackConfig(stack)['unified-mcp:alerting'] as { runbookBaseUrl?: string } | undefined)?.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL;
        for (const rule of rulesOf(r)) {
          assert.ok(rule.annotations.runbook_url!.startsWith(`${base}#`), rule.alert);
          assert.ok(ANCHORS.has(rule.annotations.runbook_url!.split('#')[1]!), rule.alert);
        }
      });

      it('routes page and ticket alerts through an AlertmanagerConfig the Alertmanager selects', async () => {
        const r = await runStack(stack);
        const [cfg] = amConfig(r);
        assert.ok(cfg, 'an AlertmanagerConfig');
        assert.equal(cfg.inputs.metadata.namespace, 'umcp');
        for (const [k, v] of Object.entries(ALERTMANAGER_CONFIG_LABELS)) assert.equal(cfg.inputs.metadata.labels[k], v);
        const route = cfg.inputs.spec.route;
        assert.equal(route.receiver, RECEIVER_NAMES.page, 'an alert without a known severity still pages');
        assert.deepEqual(
          route.routes.map((x: { matchers: Array<{ value: string }>; receiver: string }) => [x.matchers[0]!.value, x.receiver]),
          [
            ['page', RECEIVER_NAMES.page],
            ['ticket', RECEIVER_NAMES.ticket],
          ],
        );
        const prometheus = ofType(r, 'kubernetes:helm.sh/v3:Release').find((x) => x.inputs.chart === 'kube-prometheus-stack');
        if (stack === 'dev') {
          assert.equal(prometheus, undefined, 'an existing cluster brings its own Alertmanager (docs/operations.md)');
          return;
        }
        const am = prometheus!.inputs.values.alertmanager;
        assert.deepEqual(am.alertmanagerSpec.alertmanagerConfigSelector, { matchLabels: ALERTMANAGER_CONFIG_LABELS });
        assert.deepEqual(am.alertmanagerSpec.alertmanagerConfigNamespaceSelector, {}, 'configs of any namespace');
        assert.deepEqual(am.alertmanagerSpec.alertmanagerConfigMatcherStrategy, { type: 'OnNamespace' });
        assert.equal(am.serviceAccount.name, ALERTMANAGER_SERVICE_ACCOUNT);
      });

      it('keeps the webhook URL in a Secret only, marked secret', async () => {
        const r = await runStack(stack);
        const holders = r.resources.filter((x) => JSON.stringify(x.inputs).includes(WEBHOOK_URL));
        assert.deepEqual(
          holders.map((x) => x.type),
          ['kubernetes:core/v1:Secret'],
          'the URL sits in exactly one resource, a Secret',
        );
        const secret = holders[0]!;
        assert.equal(secret.inputs.metadata.name, ALERT_WEBHOOK_SECRET.name);
        assert.equal(secret.inputs.stringData[ALERT_WEBHOOK_SECRET.key], WEBHOOK_URL);
        assert.ok(
          secret.secretPaths?.some((p) => p === 'stringData' || p === `stringData.${ALERT_WEBHOOK_SECRET.key}`),
          `secret paths: ${secret.secretPaths}`,
        );
        const hook = receiver(amConfig(r)[0]!, RECEIVER_NAMES.page).webhookConfigs[0];
        assert.deepEqual(hook.urlSecret, { name: ALERT_WEBHOOK_SECRET.name, key: ALERT_WEBHOOK_SECRET.key });
        assert.equal(hook.url, undefined);
        assert.ok(!JSON.stringify(r.outputs).includes(WEBHOOK_URL), 'not in the stack outputs');
      });

      if (!isProd(stack)) return;

      it('pages through SNS and the webhook, tickets through SNS only (stack config)', async () => {
        const r = await runStack(stack);
        const cfg = amConfig(r)[0]!;
        const topic = one(r, 'aws:sns/topic:Topic');
        const topicArn = `arn:aws:sns:${r.outputs.region}:123456789012:${topic.name}`;
        const page = receiver(cfg, RECEIVER_NAMES.page);
        const ticket = receiver(cfg, RECEIVER_NAMES.ticket);
        assert.deepEqual(
          page.snsConfigs.map((s: { topicARN: string }) => s.topicARN),
          [topicArn],
        );
        assert.deepEqual(page.snsConfigs[0].sigv4, { region: r.outputs.region }, "SigV4 with the pod's own credentials, no keys");
        assert.equal(page.webhookConfigs.length, 1);
        assert.equal(ticket.snsConfigs.length, 1);
        assert.equal(ticket.webhookConfigs, undefined);
        assert.equal(r.outputs.alertTopicArn, topicArn);
      });

      it('encrypts the topic with its own rotating KMS key and subscribes the configured emails', async () => {
        const r = await runStack(stack);
        const topic = one(r, 'aws:sns/topic:Topic');
        const key = one(r, 'aws:kms/key:Key', '-alerts-kms');
        assert.equal(topic.inputs.kmsMasterKeyId, `arn:aws:kms:${r.outputs.region}:123456789012:key/${key.name}`);
        assert.equal(key.inputs.enableKeyRotation, true);
        const subs = ofType(r, 'aws:sns/topicSubscription:TopicSubscription');
        assert.deepEqual(
          subs.map((s) => [s.inputs.protocol, s.inputs.endpoint]),
          [['email', 'oncall@example.com']],
        );
        const deny = statements(one(r, 'aws:sns/topicPolicy:TopicPolicy').inputs.policy)[0]!;
        assert.deepEqual([deny.Effect, deny.Condition], ['Deny', { Bool: { 'aws:SecureTransport': 'false' } }]);
      });

      it('gives the Alertmanager a Pod Identity role that may publish to this topic and use its key via SNS, nothing else', async () => {
        const r = await runStack(stack);
        const region = String(r.outputs.region);
        const topic = one(r, 'aws:sns/topic:Topic');
        const key = one(r, 'aws:kms/key:Key', '-alerts-kms');
        const assoc = one(r, 'aws:eks/podIdentityAssociation:PodIdentityAssociation', '-alertmanager');
        assert.deepEqual([assoc.inputs.namespace, assoc.inputs.serviceAccount], ['monitoring', ALERTMANAGER_SERVICE_ACCOUNT]);
        const role = one(r, 'aws:iam/role:Role', '-alertmanager');
        assert.equal(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service, 'pods.eks.amazonaws.com');
        assert.equal(assoc.inputs.roleArn, `arn:aws:iam::123456789012:role/${role.name}`);
        const stmts = statements(role.inputs.inlinePolicies[0].policy);
        assert.deepEqual(
          stmts.map((s) => [s.Effect, s.Action, s.Resource]),
          [
            ['Allow', 'sns:Publish', `arn:aws:sns:${region}:123456789012:${topic.name}`],
            ['Allow', ['kms:GenerateDataKey*', 'kms:Decrypt'], `arn:aws:kms:${region}:123456789012:key/${key.name}`],
          ],
        );
        assert.deepEqual(stmts[1]!.Condition, { StringEquals: { 'kms:ViaService': `sns.${region}.amazonaws.com` } });
        // No other role may publish: the workload roles carry no sns action.
        for (const other of ofType(r, 'aws:iam/role:Role').filter((x) => x !== role)) {
          assert.ok(!JSON.stringify(other.inputs.inlinePolicies ?? []).includes('sns:'), `${other.name} has no SNS access`);
        }
      });
    });
  }

  describe('existing cluster with an SNS receiver', () => {
    it('creates the topic and a managed publish policy to attach, and no Pod Identity role', async () => {
      await runStack('dev');
      const r = await runStackUnderMocks('dev', { config: { 'unified-mcp:alerting': { sns: {}, webhook: false } } });
      const topic = one(r, 'aws:sns/topic:Topic');
      const managed = one(r, 'aws:iam/policy:Policy', '-alerts-publish');
      assert.equal(statements(managed.inputs.policy)[0]!.Resource, `arn:aws:sns:us-east-1:123456789012:${topic.name}`);
      assert.equal(r.outputs.alertPublishPolicyArn, `arn:aws:iam:us-east-1:123456789012:${managed.name}`);
      assert.equal(ofType(r, 'aws:eks/podIdentityAssociation:PodIdentityAssociation').length, 0);
      const cfg = amConfig(r)[0]!;
      assert.equal(receiver(cfg, RECEIVER_NAMES.page).snsConfigs.length, 1);
      assert.equal(ofType(r, 'kubernetes:core/v1:Secret').filter((s) => s.inputs.metadata.name === ALERT_WEBHOOK_SECRET.name).length, 0);
    });

    it('publishes to an existing topic without creating one', async () => {
      await runStack('dev');
      const topicArn = 'arn:aws:sns:us-east-1:123456789012:team-pager';
      const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/team-pager-key';
      const r = await runStackUnderMocks('dev', { config: { 'unified-mcp:alerting': { sns: { topicArn, kmsKeyArn: keyArn } } } });
      assert.equal(ofType(r, 'aws:sns/topic:Topic').length, 0);
      assert.equal(receiver(amConfig(r)[0]!, RECEIVER_NAMES.page).snsConfigs[0].topicARN, topicArn);
      const stmts = statements(one(r, 'aws:iam/policy:Policy', '-alerts-publish').inputs.policy);
      assert.deepEqual(
        stmts.map((s) => s.Resource),
        [topicArn, keyArn],
      );
    });
  });

  describe('config', () => {
    it('rejects a prod stack whose alerts reach no receiver', async () => {
      const msg = await failure('prod-us-east-1', { config: { 'unified-mcp:alerting': {} } });
      assert.match(msg, /stack "prod-us-east-1".*unified-mcp:alerting: prod needs an alert receiver/);
    });

    it('rejects a route to a receiver that is not configured', async () => {
      const msg = await failure('prod-us-east-1', { config: { 'unified-mcp:alerting': { webhook: true, ticket: ['sns'] } } });
      assert.match(msg, /unified-mcp:alerting\.ticket: names "sns", which is not configured/);
    });

    it('requires the webhook URL as a secret when the webhook receiver is on', async () => {
      const missing = await failure('dev', { secrets: { 'unified-mcp:alertWebhookUrl': undefined } });
      assert.match(missing, /unified-mcp:alertWebhookUrl is a missing secret/);
      const plain = await failure('dev', { config: { 'unified-mcp:alertWebhookUrl': WEBHOOK_URL }, secrets: { 'unified-mcp:alertWebhookUrl': undefined } });
      assert.match(plain, /unified-mcp:alertWebhookUrl is stored in plain text/);
      const bad = await failure('dev', { secrets: { 'unified-mcp:alertWebhookUrl': 'not a url' } });
      assert.match(bad, /alertWebhookUrl must be an http\(s\) URL/);
      assert.ok(!bad.includes('not a url'), 'the secret is not echoed');
    });

    it('rejects a runbook base URL with a fragment, and SNS subscriptions on an existing topic', async () => {
      assert.match(
        await failure('dev', { config: { 'unified-mcp:alerting': { webhook: true, runbookBaseUrl: 'https://x.example.com/ops.md#top' } } }),
        /unified-mcp:alerting\.runbookBaseUrl: no #fragment/,
      );
      assert.match(
        checkAlertTopicArgs({ region: 'us-east-1', topicName: 't', existingTopicArn: 'arn:aws:sns:us-east-1:123456789012:t', emails: ['a@example.com'] })!,
        /subscribe an existing topic where it is managed/,
      );
      assert.match(
        checkAlertTopicArgs({ region: 'eu-west-1', topicName: 't', existingTopicArn: 'arn:aws:sns:us-east-1:123456789012:t' })!,
        /in us-east-1, the stack in eu-west-1/,
      );
      assert.match(checkAlertReceivers({ webhookUrl: 'https://x', page: ['sns'] })!, /names "sns", which is not configured/);
    });
  });
});
