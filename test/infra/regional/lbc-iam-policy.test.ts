/**
 * The AWS Load Balancer Controller's IAM policy is the official document of the chart's controller
 * version, byte for byte, and that is what the stack gives the controller's Pod Identity role.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ADDON_CHARTS } from '../../../infra/regional/cluster/index.js';
import {
  LBC_POLICY_CHART_VERSION,
  LBC_POLICY_FILE,
  LBC_POLICY_UPSTREAM_SHA256,
  LBC_POLICY_VERSION,
  lbcIamPolicy,
  type IamStatement,
} from '../../../infra/regional/cluster/lbc-iam-policy.js';
import { ofType, REGIONAL_STACKS, runStack, isProd } from '../support/stacks.js';

const actions = (s: IamStatement) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[];

describe('load balancer controller IAM policy', () => {
  it("is the upstream docs/install/iam_policy.json of the chart's controller version, unmodified", () => {
    const sha = createHash('sha256').update(readFileSync(LBC_POLICY_FILE)).digest('hex');
    assert.equal(sha, LBC_POLICY_UPSTREAM_SHA256, `${LBC_POLICY_FILE.pathname}: expected the upstream file of ${LBC_POLICY_VERSION}`);
    assert.equal(
      ADDON_CHARTS.loadBalancerController.version,
      LBC_POLICY_CHART_VERSION,
      `chart ${ADDON_CHARTS.loadBalancerController.version} installs another controller than ${LBC_POLICY_VERSION}: vendor that tag's iam_policy.json`,
    );
    // Chart 1.x.y ships controller v2.x.y.
    assert.equal(LBC_POLICY_VERSION, `v2.${LBC_POLICY_CHART_VERSION.split('.').slice(1).join('.')}`);
  });

  it('has every statement, including the tag-conditioned AddTags and the v2.13 read actions', () => {
    const doc = lbcIamPolicy();
    assert.equal(doc.Version, '2012-10-17');
    assert.equal(doc.Statement.length, 16);
    const onCreate = doc.Statement.find((s) => actions(s).includes('elasticloadbalancing:AddTags') && s.Condition?.['StringEquals']);
    assert.ok(onCreate, 'AddTags allowed on CreateLoadBalancer/CreateTargetGroup');
    assert.deepEqual(onCreate.Condition!['StringEquals']!['elasticloadbalancing:CreateAction'], ['CreateTargetGroup', 'CreateLoadBalancer']);
    assert.equal(onCreate.Condition!['Null']!['aws:RequestTag/elbv2.k8s.aws/cluster'], 'false');
    const all = doc.Statement.flatMap(actions);
    for (const a of [
      'ec2:GetSecurityGroupsForVpc',
      'elasticloadbalancing:DescribeListenerAttributes',
      'elasticloadbalancing:ModifyListenerAttributes',
      'wafv2:AssociateWebACL',
      'shield:CreateProtection',
      'ec2:AuthorizeSecurityGroupIngress',
    ]) {
      assert.ok(all.includes(a), `${a} in the policy`);
    }
    assert.ok(!all.includes('elasticloadbalancing:*'), 'no wildcard over every ELB action');
    // An inline role policy may hold 10,240 characters (whitespace not counted).
    assert.ok(JSON.stringify(doc).length < 10_240);
  });

  for (const stack of REGIONAL_STACKS.filter(isProd)) {
    it(`${stack}: the controller's Pod Identity role carries exactly that document`, async () => {
      const r = await runStack(stack);
      const role = ofType(r, 'aws:iam/role:Role').find((x) => x.name.endsWith('-lbc'));
      assert.ok(role, 'a role for the load balancer controller');
      const doc = JSON.parse(role.inputs.inlinePolicies[0].policy);
      assert.deepEqual(doc, lbcIamPolicy(), 'inline policy equals the vendored document (partition aws)');
    });
  }
});
